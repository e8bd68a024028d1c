"""What the CLI prints: the JSON shapes of DESIGN.md and their human-readable twins."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from agent.clock import iso, local_date
from agent.recall import RecallHit
from device import RUNTIMES, DeviceInfo
from storage import StoreStats


def recall_json(query: str, hits: list[RecallHit]) -> dict[str, Any]:
    return {
        "query": query,
        "results": [
            {
                "id": h.memory.id,
                "score": round(h.score, 6),
                "tier": h.memory.tier,
                "kind": h.memory.kind,
                "source": h.memory.source,
                "occurred_at": iso(h.memory.occurred_at),
                "text": h.memory.text,
            }
            for h in hits
        ],
    }


def recall_text(hits: list[RecallHit], width: int = 100) -> str:
    if not hits:
        return "No memories match."
    lines = []
    for h in hits:
        m = h.memory
        snippet = " ".join(m.text.split())
        if len(snippet) > width:
            snippet = snippet[: width - 1] + "…"
        pin = " pinned" if m.pinned else ""
        lines.append(f"#{m.id}  {local_date(m.occurred_at)}  {m.tier}/{m.kind}{pin}  {m.source}")
        lines.append(f"    {snippet}")
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
        f"{stats.memories} memories, {human_bytes(stats.bytes)} of text and vectors "
        f"({human_bytes(stats.file_bytes)} on disk)",
        "",
        f"{'tier':<10}{'count':>8}{'bytes':>12}",
    ]
    lines += [f"{n:<10}{b.count:>8}{human_bytes(b.bytes):>12}" for n, b in stats.tiers.items()]
    lines += ["", f"{'kind':<10}{'count':>8}{'bytes':>12}"]
    lines += [f"{n:<10}{b.count:>8}{human_bytes(b.bytes):>12}" for n, b in stats.kinds.items()]
    return "\n".join(lines)


def doctor_json(
    info: DeviceInfo, paths: dict[str, str], models: list[dict[str, Any]]
) -> dict[str, Any]:
    return {"device": asdict(info), "paths": paths, "models": models}


def doctor_text(info: DeviceInfo, paths: dict[str, str], models: list[dict[str, Any]]) -> str:
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
    lines += ["", "models"]
    for m in models:
        lines.append(
            f"  {m['status']:<10} {m['name']:<18} {m['role']:<9} {m['path'] or m['package']}"
        )
    lines += ["", "paths"] + [f"  {k:<8} {v}" for k, v in paths.items()]
    return "\n".join(lines)
