"""Inbox folders: files dropped in are ingested, then deleted, or filed under rejected/.

A file is taken once its size has stayed the same for one scan (so a file still being copied
is left alone). It goes through the daemon's queue like any other request; once its memory
is stored (or found already stored) the file is deleted: a copy kept beside the store would
keep, unredacted, what the store redacted and what the person later forgets. A file that
is not taken in goes to `rejected/` with a `NAME.reason` file that says why. A file that was
stored but not yet deleted when the daemon died is a duplicate next time, and deleted then.
"""

from __future__ import annotations

import os
from pathlib import Path

from agent.ingest.notes import IngestResult
from agent.settings import Settings

REJECTED = "rejected"
DONE = "done"  # where papertape before issue 31 kept copies of what it took in


def inbox_folders(settings: Settings) -> list[Path]:
    folders = [p for p in settings.inbox_dirs.split(os.pathsep) if p.strip()]
    return [Path(p).expanduser() for p in folders] or [settings.home / "inbox"]


def old_copies(settings: Settings) -> list[Path]:
    """Files an earlier papertape kept in an inbox's done/ folder: plaintext copies of what
    was stored, which encrypting the store does not reach."""
    return sorted(
        p for folder in inbox_folders(settings) for p in (folder / DONE).rglob("*") if p.is_file()
    )


def arrivals(folder: Path, sizes: dict[Path, int]) -> list[Path]:
    """Files in `folder` (not in rejected/, not hidden: an editor's or a download's temporary
    file) whose size held since the last scan; `sizes` carries what the last scan saw. A
    folder dropped in is set aside in rejected/ with its reason, not left unsaid."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    ready = []
    seen = {}
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or entry.name in (REJECTED, DONE):
            continue
        if entry.is_dir() and not entry.is_symlink():
            _set_aside(entry, "is a folder: drop the files in it, or run papertape ingest on it")
            continue
        if not entry.is_file():
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
    """Delete a file whose memory is stored; move one that was not taken in (rejected, or
    excluded by a rule) to rejected/ with its reason beside it, and return where it went."""
    if not path.exists():
        return None
    if result.status in ("stored", "duplicate"):
        path.unlink()
        return None
    return _set_aside(path, result.reason)


def _set_aside(path: Path, reason: str) -> Path:
    """Move `path` to rejected/ beside it, with NAME.reason saying why; where it went."""
    folder = path.parent / REJECTED
    folder.mkdir(mode=0o700, exist_ok=True)
    target = _free_name(folder, path.name)
    os.replace(path, target)
    target.with_name(target.name + ".reason").write_text(
        f"{path.name} {reason}.\n", encoding="utf-8"
    )
    return target
