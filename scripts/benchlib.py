"""Small helpers shared by the benchmarks: the machine line, percentiles, a repo-root import."""

from __future__ import annotations

import platform
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def machine() -> str:
    from device import probe

    info = probe()
    return (
        f"{info.cpu}, {info.cores} cores, {info.ram_total_bytes / 1e9:.0f} GB RAM, "
        f"{info.os} {info.machine}, Python {platform.python_version()}"
    )


def header(command: str) -> str:
    return f"machine: {machine()}\ndate: {date.today().isoformat()}\ncommand: {command}"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]
