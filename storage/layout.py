"""Where a memory's row lives: sharp ones in the main file, faded ones in the cold file.

Both files keep rows in the same table, `memories`, holding text, metadata and (for faded
memories) the int8 vector together. Each table is clustered on its key, so rows that are near
in tier and time are near on disk: the main file by (occurred_at, id), the cold file by
(tier, occurred_at, id). A scan of one tier, or a recalled memory's neighbours in time, reads
a run of adjacent pages, whatever order the memories were ingested in.

Ids are unique across both files; the id index in each answers lookups by id. An id is never
given twice: the highest ever given is kept (`last_id`) and outlives the memory that had it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import apsw

MAIN = "main"
COLD = "cold"
SCHEMAS = (MAIN, COLD)
# store_meta key of the ids' high-water mark.
LAST_ID = "last_id"

# The columns of a memory's row, in the order the Memory record is built from them.
COLUMNS = (
    "id",
    "kind",
    "source",
    "occurred_at",
    "ingested_at",
    "content_hash",
    "text",
    "tier",
    "importance",
    "strength",
    "last_recalled_at",
    "recall_count",
    "pinned",
    "vector_bytes",
)
SELECT = ", ".join(COLUMNS)
# Every stored column, the re-rank vector too: what moves when a row changes file.
STORED = (*COLUMNS, "cold_vector")


def schema_for(tier: str) -> str:
    return MAIN if tier == "sharp" else COLD


def create_memories(conn: apsw.Connection, schema: str, *, tiers: Sequence[str]) -> None:
    """The memories table and its indexes in `schema`, holding rows of `tiers` only."""
    allowed = ", ".join(f"'{tier}'" for tier in tiers)
    key = "occurred_at, id" if schema == MAIN else "tier, occurred_at, id"
    conn.execute(
        f"""
        CREATE TABLE IF NOT EXISTS {schema}.memories (
            id INTEGER NOT NULL,
            kind TEXT NOT NULL,
            source TEXT NOT NULL,
            occurred_at REAL NOT NULL,
            ingested_at REAL NOT NULL,
            content_hash TEXT NOT NULL UNIQUE,
            text TEXT NOT NULL,
            tier TEXT NOT NULL CHECK (tier IN ({allowed})),
            importance REAL NOT NULL DEFAULT 0.5 CHECK (importance BETWEEN 0 AND 1),
            strength REAL NOT NULL CHECK (strength > 0),
            last_recalled_at REAL,
            recall_count INTEGER NOT NULL DEFAULT 0,
            pinned INTEGER NOT NULL DEFAULT 0,
            vector_bytes INTEGER NOT NULL DEFAULT 0,
            cold_vector BLOB,
            PRIMARY KEY ({key})
        ) WITHOUT ROWID
        """
    )
    conn.execute(f"CREATE UNIQUE INDEX IF NOT EXISTS {schema}.memories_id ON memories (id)")
    if schema != MAIN:  # browsing newest first crosses tiers
        conn.execute(
            f"CREATE INDEX IF NOT EXISTS {schema}.memories_time ON memories (occurred_at, id)"
        )


def create_blobs(conn: apsw.Connection, schema: str) -> None:
    """The bytes that belong to a memory (a rendered page, a thumbnail, original media), in
    the same file as its row and deleted with it."""
    conn.execute(
        f"""
        CREATE TABLE IF NOT EXISTS {schema}.memory_blobs (
            memory_id INTEGER NOT NULL REFERENCES memories (id) ON DELETE CASCADE,
            role TEXT NOT NULL,
            media_type TEXT NOT NULL,
            data BLOB NOT NULL,
            meta TEXT NOT NULL DEFAULT '{{}}',
            PRIMARY KEY (memory_id, role)
        )
        """
    )


def home(conn: apsw.Connection, memory_id: int) -> str | None:
    """The schema whose `memories` holds this id, or None when there is no such memory."""
    for schema in SCHEMAS:
        if list(conn.execute(f"SELECT 1 FROM {schema}.memories WHERE id = ?", (memory_id,))):
            return schema
    return None


def largest_id(conn: apsw.Connection) -> int:
    """The largest id either file holds now (0 when empty)."""
    largest = 0
    for schema in SCHEMAS:
        found = next(iter(conn.execute(f"SELECT max(id) FROM {schema}.memories")))[0]
        largest = max(largest, int(cast(int, found) or 0))
    return largest


def last_id(conn: apsw.Connection) -> int:
    """The highest id ever given in this store (its high-water mark, kept in store_meta):
    forgetting a memory does not lower it, so no id is ever given twice."""
    rows = list(conn.execute("SELECT value FROM main.store_meta WHERE key = ?", (LAST_ID,)))
    return int(rows[0][0]) if rows else 0


def raise_last_id(conn: apsw.Connection, memory_id: int) -> None:
    """Move the high-water mark up to `memory_id` (never down)."""
    if memory_id > last_id(conn):
        conn.execute(
            "INSERT OR REPLACE INTO main.store_meta (key, value) VALUES (?, ?)",
            (LAST_ID, str(memory_id)),
        )


def next_id(conn: apsw.Connection) -> int:
    """One past both the high-water mark and the largest id held (rows written by other
    means than the store, as a benchmark does, count too)."""
    return max(last_id(conn), largest_id(conn)) + 1
