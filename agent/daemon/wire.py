"""The daemon's wire format: the service's results as JSON and back, field for field."""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

from agent.answer.dates import AnswerDate
from agent.answer.recall import RecallHit
from agent.answer.session import Answer
from agent.ingest.notes import IngestResult
from agent.memory.report import ConsolidationReport, Move
from storage import Memory, StoreStats
from storage.records import Bucket


def memory_out(memory: Memory) -> dict[str, Any]:
    return asdict(memory)


def memory_in(data: dict[str, Any]) -> Memory:
    return Memory(**{f.name: data[f.name] for f in fields(Memory)})


def hit_out(hit: RecallHit) -> dict[str, Any]:
    return {**asdict(hit), "memory": memory_out(hit.memory)}


def hit_in(data: dict[str, Any]) -> RecallHit:
    return RecallHit(**{**data, "memory": memory_in(data["memory"])})


def ingest_out(result: IngestResult) -> dict[str, Any]:
    return asdict(result)


def ingest_in(data: dict[str, Any]) -> IngestResult:
    return IngestResult(**data)


def answer_out(answer: Answer) -> dict[str, Any]:
    return {**asdict(answer), "memories": [memory_out(m) for m in answer.memories]}


def answer_in(data: dict[str, Any]) -> Answer:
    return Answer(
        **{
            **data,
            "citations": tuple(data["citations"]),
            "memories": tuple(memory_in(m) for m in data["memories"]),
            "dates": tuple(AnswerDate(**d) for d in data.get("dates", ())),
        }
    )


def stats_out(stats: StoreStats) -> dict[str, Any]:
    return asdict(stats)


def stats_in(data: dict[str, Any]) -> StoreStats:
    return StoreStats(
        memories=data["memories"],
        bytes=data["bytes"],
        file_bytes=data["file_bytes"],
        tiers={k: Bucket(**v) for k, v in data["tiers"].items()},
        kinds={k: Bucket(**v) for k, v in data["kinds"].items()},
    )


def consolidation_out(report: ConsolidationReport) -> dict[str, Any]:
    return asdict(report)


def consolidation_in(data: dict[str, Any]) -> ConsolidationReport:
    return ConsolidationReport(
        **{
            **data,
            "moves": [Move(**m) for m in data["moves"]],
            "merged": [(kept, gone) for kept, gone in data["merged"]],
            "fact_updates": [(newer, older) for newer, older in data["fact_updates"]],
        }
    )
