"""Inbox folders: files dropped in are ingested, then filed under done/ or rejected/.

A file is taken once its size has stayed the same for one scan (so a file still being copied
is left alone). It goes through the daemon's queue like any other request; afterwards it is
moved to `done/`, or to `rejected/` with a `NAME.reason` file that says why. A file that
was stored but not yet moved when the daemon died is a duplicate next time, and filed then.
"""

from __future__ import annotations

import os
from pathlib import Path

from agent.ingest import IngestResult
from agent.settings import Settings

DONE = "done"
REJECTED = "rejected"


def inbox_folders(settings: Settings) -> list[Path]:
    folders = [p for p in settings.inbox_dirs.split(os.pathsep) if p.strip()]
    return [Path(p).expanduser() for p in folders] or [settings.home / "inbox"]


def arrivals(folder: Path, sizes: dict[Path, int]) -> list[Path]:
    """Files in `folder` (not in done/ or rejected/, not hidden) whose size held since the
    last scan; `sizes` carries what the last scan saw."""
    folder.mkdir(parents=True, exist_ok=True)
    ready = []
    seen = {}
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or not entry.is_file():
            continue
        size = entry.stat().st_size
        seen[entry] = size
        if sizes.get(entry) == size:
            ready.append(entry)
    sizes.clear()
    sizes.update({path: size for path, size in seen.items() if path not in ready})
    return ready


def _free_name(folder: Path, name: str) -> Path:
    target = folder / name
    stem, suffix, n = target.stem, target.suffix, 1
    while target.exists():
        target = folder / f"{stem}-{n}{suffix}"
        n += 1
    return target


def file_away(path: Path, result: IngestResult) -> Path | None:
    """Move an ingested file to done/, or to rejected/ with its reason beside it."""
    if not path.exists():
        return None
    rejected = result.status == "rejected"
    folder = path.parent / (REJECTED if rejected else DONE)
    folder.mkdir(exist_ok=True)
    target = _free_name(folder, path.name)
    os.replace(path, target)
    if rejected:
        target.with_name(target.name + ".reason").write_text(
            f"{path.name} {result.reason}.\n", encoding="utf-8"
        )
    return target
