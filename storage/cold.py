"""The cold file: the scan index of hazy and archived memories, in a database of its own.

A query scans one small sign-bit vector (48 bytes at 384 dimensions) per faded memory, then
reads only its best candidates' rows, where the int8 vectors that re-rank them live (storage/
search.py). The index sits in its own file, attached to the main connection as `cold`, with
16 KiB pages so a scan reads in larger contiguous chunks, read through mmap within the RAM
budget, and out of the way of the hot tier's pages.

SQLite commits attached WAL databases one file after the other, so a process killed inside
a commit can leave the files out of step. Nothing is lost by that: the index is derived from
the rows in the main file. Every change to it bumps a generation number in both files in the
same transaction; when they differ at open, the index is rebuilt from the rows.
"""

from __future__ import annotations

from pathlib import Path

import apsw

from storage import vectors

SCHEMA = "cold"
TABLE = f"{SCHEMA}.memory_bits"
PAGE_SIZE = 16 * 1024
_GENERATION = "cold_generation"


def cold_path(store_path: Path | None) -> str:
    """The cold file beside the store: papertape.db -> papertape-cold.db."""
    if store_path is None:
        return ":memory:"
    return str(store_path.with_name(f"{store_path.stem}-cold{store_path.suffix or '.db'}"))


def _pragma(conn: apsw.Connection, statement: str) -> list[tuple[object, ...]]:
    return list(conn.execute(f"PRAGMA {SCHEMA}.{statement}"))


def attach(conn: apsw.Connection, path: str, *, dim: int, cache_kib: int, mmap_bytes: int) -> None:
    """Attach (creating if needed) the cold file and bring its index in step with the rows."""
    conn.execute(f"ATTACH DATABASE ? AS {SCHEMA}", (path,))
    if not list(conn.execute(f"SELECT 1 FROM {SCHEMA}.sqlite_master LIMIT 1")):
        _pragma(conn, f"page_size={PAGE_SIZE}")  # only takes before the first table
    if path != ":memory:":
        _pragma(conn, "journal_mode=WAL")
    _pragma(conn, "synchronous=NORMAL")
    _pragma(conn, "secure_delete=ON")
    _pragma(conn, f"cache_size=-{int(cache_kib)}")
    _pragma(conn, f"mmap_size={int(mmap_bytes)}")
    with conn:
        conn.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {TABLE} USING vec0 (embedding bit[{dim}])"
        )
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {SCHEMA}.cold_meta (key TEXT PRIMARY KEY, value TEXT)"
        )
        main = _generation(conn, "main.store_meta")
        # No generation in the main file: a new store, or one just migrated to this layout.
        if main < 0 or main != _generation(conn, f"{SCHEMA}.cold_meta"):
            rebuild(conn, dim)


def _generation(conn: apsw.Connection, table: str) -> int:
    rows = list(conn.execute(f"SELECT value FROM {table} WHERE key = ?", (_GENERATION,)))
    return int(str(rows[0][0])) if rows else -1


def _bump(conn: apsw.Connection) -> None:
    generation = str(max(_generation(conn, "main.store_meta"), 0) + 1)
    for table in ("main.store_meta", f"{SCHEMA}.cold_meta"):
        conn.execute(
            f"INSERT OR REPLACE INTO {table} (key, value) VALUES (?, ?)", (_GENERATION, generation)
        )


def rebuild(conn: apsw.Connection, dim: int) -> int:
    """Rebuild the index from every faded row's vector; returns how many it holds."""
    conn.execute(f"DELETE FROM {TABLE}")
    rows = conn.execute(
        "SELECT id, cold_vector FROM main.memories "
        "WHERE tier != 'sharp' AND cold_vector IS NOT NULL ORDER BY id"
    )
    count = 0
    for memory_id, blob in list(rows):
        conn.execute(
            f"INSERT INTO {TABLE} (rowid, embedding) VALUES (?, vec_bit(?))",
            (memory_id, vectors.sign_bits(bytes(blob), dim)),
        )
        count += 1
    _bump(conn)
    return count


def put(conn: apsw.Connection, memory_id: int, blob: bytes, dim: int) -> None:
    """Index a faded memory's stored vector (any encoding). Call inside a transaction."""
    conn.execute(f"DELETE FROM {TABLE} WHERE rowid = ?", (memory_id,))
    conn.execute(
        f"INSERT INTO {TABLE} (rowid, embedding) VALUES (?, vec_bit(?))",
        (memory_id, vectors.sign_bits(blob, dim)),
    )
    _bump(conn)


def drop(conn: apsw.Connection, memory_id: int) -> None:
    conn.execute(f"DELETE FROM {TABLE} WHERE rowid = ?", (memory_id,))
    if conn.changes():
        _bump(conn)


def search(conn: apsw.Connection, bits: bytes, k: int) -> list[tuple[int, float]]:
    """The `k` nearest faded memories by Hamming distance, nearest first."""
    rows = conn.execute(
        f"SELECT rowid, distance FROM {TABLE} WHERE embedding MATCH vec_bit(?) AND k = ? "
        "ORDER BY distance",
        (bits, k),
    )
    return [(int(rowid), float(distance)) for rowid, distance in rows]
