#!/usr/bin/env python3
"""Update detection for facts: precision and recall on a set of updates and look-alikes.

Each case of the data (tests/data/updates.json) is its own store: its older facts stored as
facts with their vectors, said on one day; then its newer fact, said days later, goes
through papertape's path (agent/memory/updates.py): the nearest current facts (the gate) are
shown to the model, which names the one the new fact replaces, or none. Compared in the same
run, on the same candidates:

- nearest: always the nearest candidate (what a model that always says "yes" would do).

A prediction is right when it names the older fact the case says is replaced (an update) or
none (a look-alike). Precision = right names / names given; recall = right names / updates.
gate recall = the share of updates whose replaced fact was among the candidates at all.

    python -m scripts.bench.updates --model qwen2.5-coder-1.5b [--data tests/data/updates.json]
        [--limit N] [--embedder minilm|e5-small|fake] [--threads N] [--json]
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from agent.clock import parse_time
from agent.errors import Failure, UserError
from agent.llm import plan_model
from agent.memory.drafts import fact_hash
from agent.memory.updates import Candidate, UpdateJudge
from agent.service import Papertape
from agent.settings import Settings, load_settings
from device import probe
from models import Embedder
from models.embedder import embed_one
from models.generator import Generator
from models.generators import checked_path, load_generator
from scripts.bench import common
from storage import MemoryStore, NewMemory

PROG = common.command_name(__file__)
DATA = common.ROOT / "tests/data/updates.json"
METHODS = ("model", "nearest")


@dataclass(frozen=True)
class Case:
    id: str
    kind: str
    older: tuple[str, ...]
    newer: str
    updates: int | None  # index into older


def load_cases(path: Path) -> tuple[list[Case], tuple[float, float]]:
    """The cases and the two days (older said, newer said); ValueError when malformed."""
    data = json.loads(path.read_text(encoding="utf-8"))
    said = tuple(parse_time(day) for day in data["said"])
    if len(said) != 2 or said[0] >= said[1]:
        raise ValueError("said must be two times, the older first")
    cases = []
    for raw in data["cases"]:
        older = tuple(str(text) for text in raw["older"])
        index = raw["updates"]
        if index is not None and not (type(index) is int and 0 <= index < len(older)):
            raise ValueError(f"case {raw['id']}: updates is not an index of its older facts")
        cases.append(Case(str(raw["id"]), str(raw["kind"]), older, str(raw["newer"]), index))
    return cases, (said[0], said[1])


@dataclass(frozen=True)
class Row:
    case: str
    kind: str
    expected: int | None  # index into the case's older facts
    candidates: tuple[int, ...]  # indexes, nearest first
    model: int | None
    nearest: int | None
    seconds: float  # the model's judgement, 0 when there was no candidate


def run_case(
    case: Case,
    said: tuple[float, float],
    store: MemoryStore,
    embedder: Embedder,
    model: Generator,
    min_similarity: float,
) -> Row:
    vectors = embedder.embed(list(case.older))
    index_of: dict[int, int] = {}
    with store.transaction():
        for index, (text, vector) in enumerate(zip(case.older, vectors, strict=True)):
            memory_id = store.add(
                NewMemory(
                    kind="fact",
                    source="bench",
                    occurred_at=said[0] + 60 * index,
                    ingested_at=said[0],
                    content_hash=fact_hash(text),
                    text=text,
                    strength=14.0,
                ),
                vector,
            )
            index_of[memory_id] = index
    judge = UpdateJudge(store, model, min_similarity)
    candidates: list[Candidate] = judge.candidates(embed_one(embedder, case.newer), said[1])
    seconds, named = 0.0, None
    if candidates:
        started = time.perf_counter()
        chosen = judge.judge(case.newer, said[1], candidates)
        named = None if chosen is None else chosen.memory_id
        seconds = time.perf_counter() - started
    nearest = candidates[0].memory_id if candidates else None

    def position(memory_id: int | None) -> int | None:
        return None if memory_id is None else index_of[memory_id]

    return Row(
        case.id,
        case.kind,
        case.updates,
        tuple(index_of[c.memory_id] for c in candidates if c.memory_id is not None),
        position(named),
        position(nearest),
        seconds,
    )


def given(settings: Settings, spec: str, threads: int) -> Generator | None:
    """The model loaded with `threads` (None: let papertape load it as planned). On a
    machine busy with other work, fewer threads than cores can be much faster."""
    if not threads or spec == "fake":
        return None
    source, plan = plan_model(settings, probe(settings.home), spec)
    if source is None or not source.installed:
        raise Failure(f"the model {spec} is not installed: papertape models install {spec}.")
    return load_generator(
        source,
        checked_path(source, settings.models_dir),
        context_tokens=plan.context_tokens,
        threads=threads,
    )


def score(rows: list[Row], method: str) -> dict[str, Any]:
    named = [(r.expected, getattr(r, method)) for r in rows if getattr(r, method) is not None]
    right = sum(expected == got for expected, got in named)
    wanted = sum(r.expected is not None for r in rows)
    precision = right / len(named) if named else float("nan")
    recall = right / wanted if wanted else float("nan")
    look_alikes = [r for r in rows if r.expected is None]
    return {
        "method": method,
        "precision": precision,
        "recall": recall,
        "named": len(named),
        "right": right,
        "updates": wanted,
        "look_alikes_named": sum(getattr(r, method) is not None for r in look_alikes),
        "look_alikes": len(look_alikes),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="a catalogued name, a .gguf path, or fake")
    parser.add_argument("--data", type=Path, default=DATA, help=f"cases (default: {DATA})")
    parser.add_argument("--limit", type=int, default=0, help="only the first N cases")
    parser.add_argument("--embedder", default="minilm", help="minilm (default), e5-small or fake")
    parser.add_argument(
        "--threads", type=int, default=0, help="llama.cpp threads (default: the device plan)"
    )
    parser.add_argument("--json", action="store_true", help="print the rows and scores as JSON")
    args = parser.parse_args()
    if not args.data.is_file():
        common.refuse(PROG, f"{args.data} does not exist; give --data FILE.")
    if args.limit < 0:
        common.refuse(PROG, f"--limit must be 0 (all) or more; got {args.limit}.")
    if args.threads < 0:
        common.refuse(PROG, f"--threads must be 0 (the plan's) or more; got {args.threads}.")
    try:
        cases, said = load_cases(args.data)
    except (ValueError, KeyError, TypeError) as exc:
        common.refuse(PROG, f"{args.data} is not an update set ({exc}).")
    if args.limit:
        cases = cases[: args.limit]
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            settings = load_settings(
                Path(tmp), overrides={"model": args.model, "embedder": args.embedder}, env={}
            )
            # The device plan's threads unless --threads says otherwise.
            with Papertape(settings, generator=given(settings, args.model, args.threads)) as app:
                model, embedder = app.generator(), app.embedder
                for number, case in enumerate(cases):
                    path = Path(tmp) / f"case-{number}.db"
                    with MemoryStore.open(
                        path, vector_dim=embedder.dim, embedder=embedder.name
                    ) as store:
                        rows.append(
                            run_case(
                                case, said, store, embedder, model, settings.update_min_similarity
                            )
                        )
                    if sys.stderr.isatty():
                        print(f"\r{number + 1}/{len(cases)}", end="", file=sys.stderr, flush=True)
        except (UserError, Failure) as exc:
            common.refuse(PROG, str(exc), exc.exit_code)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    scores = [score(rows, method) for method in METHODS]
    gate = [r for r in rows if r.expected is not None]
    gate_recall = sum(r.expected in r.candidates for r in gate) / len(gate) if gate else 0.0
    judged = [r.seconds for r in rows if r.seconds]
    if args.json:
        print(
            json.dumps(
                {
                    "model": args.model,
                    "embedder": args.embedder,
                    "gate_recall": gate_recall,
                    "seconds_median": common.percentile(judged, 50),
                    "scores": scores,
                    "rows": [asdict(r) for r in rows],
                },
                indent=1,
            )
        )
        return
    print(common.header("python -m scripts.bench.updates " + shlex.join(sys.argv[1:])))
    print(f"model: {args.model}; embedder: {args.embedder}; cases: {len(rows)}")
    print(f"gate recall (the replaced fact among the candidates): {gate_recall:.2f}")
    print(f"model judgement: median {common.percentile(judged, 50):.2f} s ({len(judged)} asked)")
    print(f"{'method':<9}{'precision':>10}{'recall':>8}  named (right)  look-alikes named")
    for s in scores:
        print(
            f"{s['method']:<9}{s['precision']:>10.2f}{s['recall']:>8.2f}  "
            f"{s['named']:>5} ({s['right']:>2})  {s['look_alikes_named']:>5} of {s['look_alikes']}"
        )
    for r in rows:
        if r.model != r.expected:
            print(f"  missed {r.case} ({r.kind}): expected {r.expected}, model {r.model}")


if __name__ == "__main__":
    main()
