"""Keeps the main and cold files consistent when a process dies inside a commit.

SQLite commits attached WAL databases one file after the other, so a transaction that wrote
both can survive in one and not the other. Every transaction that changes rows in the cold
file therefore also writes, in the main file, the final state of each cold row it touched
(the whole row and its blobs, or that it is gone). Whichever file the commit reached, the
main file's journal holds the transaction's outcome for the cold file, and opening the store
replays it: the cold rows, their blobs and their sign bits are set to what the journal says.
Once a transaction has committed in both files its journal entries are cleared, so the
journal is empty except across a crash.
"""

from __future__ import annotations

from collections.abc import Iterable

import apsw

from storage import cold, layout
from storage.store_base import id_chunks

JOURNAL = "main.cold_journal"
JOURNAL_BLOBS = "main.cold_journal_blobs"


def create(conn: apsw.Connection) -> None:
    """The journal tables in the main file (migration 007)."""
    columns = ", ".join(layout.STORED[1:])
    conn.execute(
        f"CREATE TABLE {JOURNAL} (id INTEGER PRIMARY KEY, present INTEGER NOT NULL, {columns})"
    )
    conn.execute(
        f"CREATE TABLE {JOURNAL_BLOBS} (memory_id INTEGER NOT NULL, role TEXT NOT NULL, "
        "media_type TEXT NOT NULL, data BLOB NOT NULL, meta TEXT NOT NULL, "
        "PRIMARY KEY (memory_id, role))"
    )


def record(conn: apsw.Connection, ids: Iterable[int]) -> None:
    """Write the current state of these cold rows to the journal. Call inside the transaction
    that changed them, after its last change."""
    columns = ", ".join(layout.STORED)
    for batch, marks in id_chunks(sorted(set(ids))):
        conn.execute(f"DELETE FROM {JOURNAL_BLOBS} WHERE memory_id IN ({marks})", batch)
        conn.execute(
            f"INSERT OR REPLACE INTO {JOURNAL} (id, present) VALUES "
            + ",".join("(?, 0)" for _ in batch),
            batch,
        )
        conn.execute(
            f"INSERT OR REPLACE INTO {JOURNAL} (present, {columns}) "
            f"SELECT 1, {columns} FROM cold.memories WHERE id IN ({marks})",
            batch,
        )
        conn.execute(
            f"INSERT INTO {JOURNAL_BLOBS} SELECT memory_id, role, media_type, data, meta "
            f"FROM cold.memory_blobs WHERE memory_id IN ({marks})",
            batch,
        )


def pending(conn: apsw.Connection) -> bool:
    """Whether the journal holds entries (False before migration 007 made it)."""
    if not list(conn.execute("SELECT 1 FROM main.sqlite_master WHERE name = 'cold_journal'")):
        return False
    return bool(list(conn.execute(f"SELECT 1 FROM {JOURNAL} LIMIT 1")))


def clear(conn: apsw.Connection) -> None:
    """Forget entries whose transactions committed in both files."""
    with conn:
        conn.execute(f"DELETE FROM {JOURNAL}")
        conn.execute(f"DELETE FROM {JOURNAL_BLOBS}")


def replay(conn: apsw.Connection, dim: int) -> int:
    """Bring the cold file to the journal's state, then empty the journal; returns how many
    rows it set. Takes the write lock first, so a writer mid-commit finishes before it reads."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        entries = list(conn.execute(f"SELECT id, present, cold_vector FROM {JOURNAL}"))
        columns = ", ".join(layout.STORED)
        for memory_id, present, vector in entries:
            conn.execute("DELETE FROM cold.memories WHERE id = ?", (memory_id,))
            cold.drop(conn, memory_id)
            if not present:
                continue
            conn.execute(
                f"INSERT INTO cold.memories ({columns}) SELECT {columns} FROM {JOURNAL} "
                "WHERE id = ?",
                (memory_id,),
            )
            conn.execute(
                "INSERT INTO cold.memory_blobs SELECT memory_id, role, media_type, data, meta "
                f"FROM {JOURNAL_BLOBS} WHERE memory_id = ?",
                (memory_id,),
            )
            if vector is not None:
                cold.put(conn, memory_id, bytes(vector), dim)
        conn.execute(f"DELETE FROM {JOURNAL}")
        conn.execute(f"DELETE FROM {JOURNAL_BLOBS}")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return len(entries)
