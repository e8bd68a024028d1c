"""Damage checks: a cheap one each time a store is opened, a full one on request.

SQLite reads a damaged page only when a query needs it, so a store whose file was truncated
or overwritten could otherwise open as an empty store (and be written over) or fail later
with a bare CorruptError. Opening checks each file's header (magic, page size, whole pages),
makes SQLite parse the schema, and runs `PRAGMA quick_check` while the files are small
enough for it to take a fraction of a second; `full_check` runs `integrity_check` on both.
"""

from __future__ import annotations

import os
from pathlib import Path

import apsw

from storage.cipher import Key, KeyNeededError, apply_key, looks_encrypted, unopened
from storage.errors import StorageError

MAGIC = b"SQLite format 3\x00"
HEADER_BYTES = 100
ENCRYPTED = "it is encrypted and no passphrase was given"
# Files up to this size get a quick_check on every open: it reads every page once.
QUICK_CHECK_MAX_BYTES = 64 * 1024 * 1024
# SQLite errors that mean the bytes on disk are not a sound database.
DAMAGE_ERRORS: tuple[type[BaseException], ...] = (apsw.CorruptError, apsw.NotADBError)


class StoreDamagedError(StorageError):
    """A store file is damaged: say which, and what to do."""


def damaged(path: Path | str | None, detail: str = "") -> StoreDamagedError:
    where = f"the store at {path}" if path is not None else "the store"
    why = f" ({detail})" if detail else ""
    return StoreDamagedError(
        f"{where} is damaged{why}: restore it from a backup or import your last export "
        "(papertape export) into a new home, and run papertape doctor --check to see what "
        "is wrong."
    )


def check_header(path: Path, *, encrypted: bool = False) -> None:
    """Refuse a file that exists and is not whole SQLite pages; an empty file is new.
    `encrypted`: the file may be an encrypted one (its page size is still readable)."""
    problem = header_problem(path, encrypted=encrypted)
    if problem == ENCRYPTED:
        raise KeyNeededError(unopened(path, None))
    if problem is not None:
        raise damaged(path, problem)


def header_problem(path: Path, *, encrypted: bool = False) -> str | None:
    """What is wrong with the file's SQLite header, or None (also for a missing or empty file).
    `encrypted`: an sqlite3mc-encrypted header is accepted too."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return None
    if size == 0:
        return None
    with open(path, "rb") as handle:
        header = handle.read(HEADER_BYTES)
    if len(header) < HEADER_BYTES or not (
        header.startswith(MAGIC) or (encrypted and looks_encrypted(header))
    ):
        if looks_encrypted(header):
            return ENCRYPTED
        return "it is not an SQLite file"
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1) or size % page_size:
        return "it is not a whole number of pages"
    return None


def quick_check(conn: apsw.Connection, schemas: tuple[str, ...], paths: list[Path]) -> None:
    """Parse the schema of each attached file and, while the files are small, quick_check
    them. Raises StoreDamagedError naming the first damaged file."""
    small = sum(_size(p) for p in paths) <= QUICK_CHECK_MAX_BYTES
    for schema, path in zip(schemas, paths, strict=True):
        try:
            list(conn.execute(f"SELECT count(*) FROM {schema}.sqlite_master"))
            if small:
                found = [str(row[0]) for row in conn.execute(f"PRAGMA {schema}.quick_check(3)")]
                if found != ["ok"]:
                    raise damaged(path, "; ".join(found))
        except DAMAGE_ERRORS as exc:
            raise damaged(path, str(exc)) from None


def full_check(conn: apsw.Connection, schemas: tuple[str, ...]) -> dict[str, list[str]]:
    """`PRAGMA integrity_check` of each file: its problems, or ["ok"]."""
    found: dict[str, list[str]] = {}
    for schema in schemas:
        try:
            found[schema] = [
                str(row[0]) for row in conn.execute(f"PRAGMA {schema}.integrity_check(100)")
            ]
        except DAMAGE_ERRORS as exc:
            found[schema] = [str(exc)]
    return found


def check_files(paths: list[Path], key: Key | None = None) -> dict[str, list[str]]:
    """`integrity_check` of each file on a connection of its own, so a file the store would
    refuse to open is still examined: {path: its problems, or ["ok"]}."""
    found: dict[str, list[str]] = {}
    for path in paths:
        if not path.exists():
            found[str(path)] = ["missing"]
            continue
        problem = header_problem(path, encrypted=key is not None)
        if problem is not None:
            found[str(path)] = [problem]
            continue
        try:
            conn = apsw.Connection(str(path), flags=apsw.SQLITE_OPEN_READWRITE)
        except apsw.Error as exc:
            found[str(path)] = [str(exc)]
            continue
        try:
            apply_key(conn, key)
            if key is not None and not _readable(conn):
                found[str(path)] = [unopened(path, key)]
                continue
            found[str(path)] = full_check(conn, ("main",))["main"]
        finally:
            conn.close()
    return found


def _readable(conn: apsw.Connection) -> bool:
    try:
        list(conn.execute("SELECT count(*) FROM sqlite_master"))
    except apsw.NotADBError:
        return False
    return True


def _size(path: Path) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0
