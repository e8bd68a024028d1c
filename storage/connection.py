"""The one place that opens SQLite connections and sets their pragmas."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import apsw

from storage.cipher import Key, KeyNeededError, WrongKeyError, apply_key, unopened
from storage.errors import ExtensionLoadError, StorageError

log = logging.getLogger(__name__)

SQLITE_VEC_PIN = "sqlite-vec==0.1.9"
DEFAULT_CACHE_KIB = 32 * 1024


def _pragma(conn: apsw.Connection, statement: str) -> list[tuple[object, ...]]:
    # apsw runs a multi-statement string lazily, one statement per step: a second pragma in
    # the same string would silently never run. So each pragma runs, and is read, on its own.
    return list(conn.execute(f"PRAGMA {statement}"))


@contextmanager
def immediate(conn: apsw.Connection) -> Iterator[None]:
    """A write transaction that takes the write lock as it begins, waiting the busy timeout
    for another writer. A deferred one that read before another connection committed cannot
    write at all: SQLite answers "database is locked" at once, without waiting."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        with suppress(apsw.Error):  # SQLite may have rolled back already (a full disk)
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _load_sqlite_vec(conn: apsw.Connection) -> None:
    try:
        import sqlite_vec
    except ImportError as exc:
        raise ExtensionLoadError(
            f"sqlite-vec is not installed: run scripts/setup (or pip install {SQLITE_VEC_PIN})."
        ) from exc
    try:
        conn.enable_load_extension(True)
        conn.load_extension(sqlite_vec.loadable_path())
    except apsw.Error as exc:
        raise ExtensionLoadError(
            f"SQLite could not load sqlite-vec ({exc}): reinstall it with "
            f"pip install --force-reinstall {SQLITE_VEC_PIN}."
        ) from exc
    finally:
        conn.enable_load_extension(False)


def _check_fts5(conn: apsw.Connection) -> None:
    options = {row[0] for row in conn.execute("PRAGMA compile_options")}
    if "ENABLE_FTS5" not in options:
        raise ExtensionLoadError(
            "this SQLite build lacks FTS5: reinstall apsw-sqlite3mc from its wheel (scripts/setup)."
        )


def create_private(path: Path) -> None:
    """Create an empty database file only its owner may read and write (unless it exists):
    SQLite gives the WAL and shared-memory files it adds beside it the same mode."""
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def open_connection(
    path: Path | str, *, cache_kib: int = DEFAULT_CACHE_KIB, key: Key | None = None
) -> apsw.Connection:
    """Open `path` with sqlite-vec and FTS5 ready, WAL, secure_delete and foreign keys on;
    keyed with `key` (storage/cipher.py) before anything else touches it.

    `cache_kib` bounds SQLite's page cache: it is the RAM budget for this connection.
    """
    target = str(path)
    try:
        conn = apsw.Connection(target)
    except apsw.Error as exc:
        raise StorageError(f"cannot open the store at {target}: {exc}.") from exc
    try:
        apply_key(conn, key)
        # The first read tells a wrong (or missing) key, before any pragma writes.
        list(conn.execute("SELECT count(*) FROM sqlite_master"))
    except apsw.NotADBError:
        conn.close()
        error = KeyNeededError if key is None else WrongKeyError
        raise error(unopened(target, key)) from None
    conn.set_busy_timeout(10_000)
    _load_sqlite_vec(conn)
    _check_fts5(conn)
    try:
        mode = _pragma(conn, "journal_mode=WAL")[0][0]
        if target != ":memory:" and str(mode).lower() != "wal":
            raise StorageError(f"the store at {target} could not switch to WAL mode.")
        # NORMAL under WAL survives a killed process; only a power cut can drop the last commit.
        _pragma(conn, "synchronous=NORMAL")
        _pragma(conn, "foreign_keys=ON")
        _pragma(conn, "secure_delete=ON")
        _pragma(conn, "temp_store=MEMORY")
        _pragma(conn, f"cache_size=-{int(cache_kib)}")
        if _pragma(conn, "secure_delete")[0][0] != 1:
            raise StorageError("SQLite refused secure_delete; forgetting could leave traces.")
    except apsw.Error as exc:
        conn.close()
        raise StorageError(f"cannot prepare the store at {target}: {exc}.") from exc
    log.debug("opened %s", target)
    return conn
