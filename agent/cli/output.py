"""What the CLI prints: the JSON shapes of DESIGN.md and their human-readable twins."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from agent.answer.recall import RecallHit
from agent.answer.session import Answer
from agent.cli.terminal import printable
from agent.clock import iso, local_date
from agent.ingest.notes import IngestResult
from agent.ingest.redact import placed_kinds
from agent.memory.report import ConsolidationReport
from agent.snippets import around
from device import RUNTIMES, DeviceInfo, GeneratorPlan
from models.generators import ModelSource
from storage import Memory, StoreStats


def memory_json(memory: Memory) -> dict[str, Any]:
    return {
        "id": memory.id,
        "tier": memory.tier,
        "kind": memory.kind,
        "source": memory.source,
        "occurred_at": iso(memory.occurred_at),
        "text": memory.text,
        "pinned": memory.pinned,
    }


def note_json(result: IngestResult, kinds: Sequence[str]) -> dict[str, Any]:
    """A stored note: its id, "stored" or "duplicate", and how many secrets of which kinds
    were taken out of it (`kinds`: agent.ingest.redact.placed_kinds of the stored text)."""
    return {
        "id": result.memory_id,
        "status": result.status,
        "redacted": result.redacted,
        "redacted_kinds": list(kinds) if result.redacted else [],
    }


def redacted_text(count: int, kinds: Sequence[str] = ()) -> str:
    """ "2 secrets redacted (password, card number)": how many and of which kinds, never what."""
    named = f" ({', '.join(kinds)})" if kinds else ""
    return f"{count} secret{'' if count == 1 else 's'} redacted{named}"


def hit_json(hit: RecallHit) -> dict[str, Any]:
    found = {"score": round(hit.score, 6), **memory_json(hit.memory)}
    if hit.read_back is not None:
        found["text"] = hit.read_back
        found["read_back"] = True
    if hit.replaced_by is not None:
        found["replaced_by"] = hit.replaced_by
    return found


def recall_json(query: str, hits: list[RecallHit]) -> dict[str, Any]:
    return {"query": query, "results": [hit_json(h) for h in hits]}


def _rounded(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def ask_json(answer: Answer) -> dict[str, Any]:
    return {
        "answer": answer.text,
        "citations": list(answer.citations),
        "memories": [memory_json(m) for m in answer.memories],
        "model": answer.model,
        "ttft_s": _rounded(answer.ttft_s),
        "tokens_per_s": _rounded(answer.tokens_per_s, 2),
        "status": answer.status,
        "supported": answer.supported,
        "not_of": answer.not_of,
        "told_of": answer.told_of,
        "said_of": answer.said_of,
        "not_named": answer.not_named,
        "off_question": answer.off_question,
        "constrained": answer.constrained,
        "search_guess": answer.guess,
        "raw_reply": answer.raw_reply,
        "retrieval_s": _rounded(answer.retrieval_s),
        "prompt_tokens": answer.prompt_tokens,
        "picked_from": list(answer.offered),
        "picked_from_tokens": answer.offered_tokens,
        "answer_tokens": answer.answer_tokens,
        "chat_memory_id": answer.memory_id,
        "session": answer.session,
        "dates": [asdict(d) for d in answer.dates],
        "redacted": placed_kinds(answer.text),
    }


def answer_marks(answer: Answer) -> list[str]:
    """What a person should know about an answer beyond its words, one line each."""
    marks = [f'("{d.words}" in [{d.memory_id}]: {d.period})' for d in answer.dates]
    removed = placed_kinds(answer.text)
    if removed:
        was, them = ("was", "it") if len(removed) == 1 else ("were", "them")
        marks.append(
            f"(the {' and '.join(removed)} {was} taken out before it was stored: papertape "
            f"keeps no secrets, so it cannot give {them} back)"
        )
    if not answer.constrained:
        marks.append(
            "(plain text: this model's runtime cannot hold its reply to the answer format, so "
            "its status and citations are read from its words)"
        )
    if answer.status == "not_in_memories":
        marks.append("(the model says this is not in your memories)")
    elif answer.status == "guess":
        marks.append("(a guess: your memories do not state it)")
    elif answer.not_of is not None and answer.said_of is not None:
        marks.append(
            f"(not supported by your memories: you asked about {answer.not_of}; the answer "
            f"tells it of {answer.said_of})"
        )
    elif answer.not_of is not None and answer.told_of is not None:
        marks.append(
            f"(not supported by your memories: the lines it rests on are not {answer.not_of}'s: "
            f"they tell it of {answer.told_of})"
        )
    elif answer.not_of is not None:
        marks.append(
            f"(not supported by your memories: the lines it rests on are not {answer.not_of}'s "
            "and do not name them)"
        )
    elif answer.not_named is not None:
        marks.append(
            f"(not supported by your memories: what it cites does not name {answer.not_named})"
        )
    elif answer.off_question:
        marks.append("(not supported by your memories: what it cites is not about what you asked)")
    elif not answer.supported:
        marks.append("(not supported by your memories: what it cites does not hold this answer)")
    return marks


def conversation_hint(name: str) -> str:
    return (
        f"(kept in conversation {printable(name)}: follow up with papertape ask --continue, "
        f"or later with --session {printable(name)})"
    )


def sources_text(memories: list[Memory], width: int = 100) -> str:
    lines = ["Sources:"]
    for m in memories:
        snippet = printable(" ".join(m.text.split()))
        head = f"  [{m.id}] {local_date(m.occurred_at)} {m.tier}/{m.kind}  "
        room = max(20, width - len(head))
        lines.append(head + (snippet if len(snippet) <= room else snippet[: room - 1] + "…"))
    return "\n".join(lines)


def undo_update(older: int) -> str:
    """How to undo an update papertape linked, shown beside each one it names."""
    return f"(not an update? papertape current {older})"


def current_json(restored: dict[int, list[int]]) -> dict[str, Any]:
    """`current --json` and the MCP tool: each id, and the facts that no longer replace it."""
    return {"current": [{"id": i, "no_longer_updated_by": newer} for i, newer in restored.items()]}


def recall_text(
    hits: list[RecallHit], query: str = "", width: int = 100, mode: str = "fused"
) -> str:
    """Each hit's head line, then its text cut to `width` around where the query's words
    fall (a long passage's match may be far in)."""
    if not hits:
        return "No memories match."
    lines = []
    by_meaning = all(h.keyword_rank is None for h in hits)
    if mode == "fused" and by_meaning and any(h.similarity is not None for h in hits):
        # Ranked by meaning alone: the list is never empty, so say how loose it may be.
        lines.append("No memory holds these words; the closest in meaning:")
    for h in hits:
        m = h.memory
        snippet = printable(around(m.text, query, width))
        pin = " pinned" if m.pinned else ""
        lines.append(
            f"#{m.id}  {local_date(m.occurred_at)}  {m.tier}/{m.kind}{pin}  {printable(m.source)}"
        )
        lines.append(f"    {snippet}")
        if h.replaced_by is not None:
            lines.append(f"    history: updated by #{h.replaced_by} {undo_update(m.id)}")
        if h.read_back is not None:
            back = printable(" ".join(h.read_back.split()))
            lines.append(f"    read back from its page: {back}")
    return "\n".join(lines)


def stats_json(stats: StoreStats) -> dict[str, Any]:
    return {
        "memories": stats.memories,
        "bytes": stats.bytes,
        "file_bytes": stats.file_bytes,
        "tiers": {name: asdict(b) for name, b in stats.tiers.items()},
        "kinds": {name: asdict(b) for name, b in stats.kinds.items()},
    }


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


def stats_text(stats: StoreStats) -> str:
    lines = [
        f"{stats.memories} memories, {human_bytes(stats.bytes)} of text, vectors and pages "
        f"({human_bytes(stats.file_bytes)} on disk)",
        "",
        f"{'tier':<10}{'count':>8}{'bytes':>12}",
    ]
    lines += [f"{n:<10}{b.count:>8}{human_bytes(b.bytes):>12}" for n, b in stats.tiers.items()]
    lines += ["", f"{'kind':<10}{'count':>8}{'bytes':>12}"]
    lines += [f"{n:<10}{b.count:>8}{human_bytes(b.bytes):>12}" for n, b in stats.kinds.items()]
    return "\n".join(lines)


def source_json(source: ModelSource) -> dict[str, Any]:
    return {
        "name": source.name,
        "backend": source.backend,
        "origin": source.origin,
        "path": None if source.path is None else str(source.path),
        "size_bytes": source.size_bytes,
        "quantization": source.quantization,
        "sha256": source.sha256,
        "status": "sha256 known, checked before use" if source.sha256 else "unverified",
    }


def models_text(rows: list[dict[str, Any]], found: list[ModelSource]) -> str:
    lines = [f"{'status':<10} {'name':<20} {'role':<10} {'size':>9}  quant   where"]
    for row in rows:
        name = row["name"] + (" *" if row["default"] else "")
        where = printable(row["path"] or f"pip: {row['packages']}")
        if row["status"] == "parts":
            where = "parts installed; joined on first use"
        lines.append(
            f"{row['status']:<10} {name:<20} {row['role']:<10} "
            f"{human_bytes(row['size_bytes']):>9}  {row.get('quantization') or '':<7} {where}"
        )
    lines.append("")
    lines.append(
        "* the default for its role; for language models, the largest catalogued one that fits "
        "this machine's free memory (scripts/setup installs it; `auto` uses it). Install "
        "others with: papertape models install NAME"
    )
    if found:
        lines += ["", "Found on this machine (use with --model NAME):"]
        for source in found:
            check = "sha256 known" if source.sha256 else "unverified"
            lines.append(
                f"{check:<13} {printable(source.name):<40} {source.origin:<11} "
                f"{human_bytes(source.size_bytes):>9}  {source.quantization:<7} "
                f"{printable(source.path)}"
            )
    else:
        lines += ["", "No GGUF or MLX models found in Ollama, LM Studio or the Hugging Face cache."]
    return "\n".join(lines)


def doctor_json(
    info: DeviceInfo,
    paths: dict[str, str],
    models: list[dict[str, Any]],
    plan: GeneratorPlan | None = None,
) -> dict[str, Any]:
    chosen = None if plan is None else {**asdict(plan), "reasons": list(plan.reasons)}
    return {"device": asdict(info), "paths": paths, "models": models, "generator": chosen}


def plan_text(plan: GeneratorPlan | None) -> list[str]:
    if plan is None:
        return ["language model", "  (the model setting names no usable model)"]
    if plan.model is None:
        return ["language model", "  none usable"] + [f"  - {r}" for r in plan.reasons]
    head = (
        f"  {plan.model} on {plan.backend}, {plan.threads} threads, "
        f"{plan.context_tokens}-token context" + ("" if plan.fits else "  (DOES NOT FIT)")
    )
    return ["language model", head] + [f"  - {r}" for r in plan.reasons]


def doctor_text(
    info: DeviceInfo,
    paths: dict[str, str],
    models: list[dict[str, Any]],
    plan: GeneratorPlan | None = None,
) -> str:
    gb = 1e9
    lines = [
        f"os        {info.os} {info.os_release} ({info.machine})"
        + ("  Apple silicon" if info.apple_silicon else ""),
        f"cpu       {info.cpu}, {info.cores} cores"
        + (f", {' '.join(info.cpu_features)}" if info.cpu_features else ""),
        f"ram       {info.ram_available_bytes / gb:.1f} GB free "
        f"of {info.ram_total_bytes / gb:.1f} GB",
        f"disk      {info.disk_free_bytes / gb:.1f} GB free at {info.disk_path}",
        f"python    {info.python}",
        "",
        "runtimes",
    ]
    for name, present in info.runtimes.items():
        lines.append(f"  {'yes' if present else 'no ':<4} {name:<15} {RUNTIMES[name]}")
    lines += ["", *plan_text(plan)]
    lines += ["", "models"]
    for m in models:
        lines.append(
            f"  {m['status']:<10} {m['name']:<18} {m['role']:<9} "
            f"{printable(m['path'] or m['packages'])}"
        )
    lines += ["", "paths"] + [f"  {k:<8} {printable(v)}" for k, v in paths.items()]
    return "\n".join(lines)


def consolidation_json(report: ConsolidationReport) -> dict[str, Any]:
    return {
        "now": iso(report.now),
        "summarizer": report.summarizer,
        "moves": [
            {
                "id": m.memory_id,
                "from": m.before,
                "to": m.after,
                "reason": m.reason,
                "retention": round(m.retention, 6),
            }
            for m in report.moves
        ],
        "summaries": report.summaries,
        "merged": [list(pair) for pair in report.merged],
        "facts": {
            "episodes": report.fact_episodes,
            "made": len(report.facts),
            "ids": report.facts,
            "unsupported": report.facts_unsupported,
            "misattributed": report.facts_misattributed,
            "duplicates": report.facts_duplicates,
            "updates": len(report.fact_updates),
            "superseded": [list(pair) for pair in report.fact_updates],
        },
        "time_words": {"read": report.times_read, "kept": report.times_found},
        "rated": report.rated,
        "words_cut": report.words_cut,
        "bytes_before": report.bytes_before,
        "bytes_after": report.bytes_after,
    }


def consolidation_text(report: ConsolidationReport, *, list_moves: bool = False) -> str:
    moved = len(report.moves)
    lines = [
        f"Consolidated at {iso(report.now)}: {moved} memor{'y' if moved == 1 else 'ies'} "
        f"moved; summaries by {report.summarizer}."
    ]
    for change, count in sorted(report.counts().items()):
        lines.append(f"  {change:<24}{count:>7}")
    extras = []
    if report.summaries:
        count = len(report.summaries)
        extras.append(f"{count} episode summar{'y' if count == 1 else 'ies'} written")
    if report.merged:
        extras.append(f"{len(report.merged)} duplicates merged")
    if report.rated:
        extras.append(f"{report.rated} rated by the model")
    if report.words_cut:
        extras.append(f"{len(report.words_cut)} cut to their gists for room")
    if extras:
        lines.append("  " + "; ".join(extras))
    if report.times_read:
        lines.append(
            f"Time words: {len(report.times_found)} of {report.times_read} "
            f"memor{'y' if report.times_read == 1 else 'ies'} read name another time "
            "(its date is kept beside them)."
        )
    if report.fact_episodes:
        lines.append(
            f"Facts: {len(report.facts)} made from {report.fact_episodes} "
            f"episode{'' if report.fact_episodes == 1 else 's'}; "
            f"{report.facts_unsupported} dropped as unsupported by their sources or cut off, "
            f"{report.facts_misattributed} as told of the wrong person, "
            f"{report.facts_duplicates} as duplicates; "
            f"{len(report.fact_updates)} update{'' if len(report.fact_updates) == 1 else 's'} "
            "of older facts linked."
        )
        for newer, older in report.fact_updates:
            lines.append(f"  #{newer} updates #{older} {undo_update(older)}")
    lines.append(f"Bytes: {human_bytes(report.bytes_before)} -> {human_bytes(report.bytes_after)}")
    if list_moves:
        for m in report.moves:
            lines.append(
                f"  #{m.memory_id:<6} {m.before:>7} -> {m.after:<9} {m.reason:<9} "
                f"R={m.retention:.3f}  {printable(m.label)}"
            )
    return "\n".join(lines)
