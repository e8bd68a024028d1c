"""The cold file: hazy and archived memories, their blobs and their scan index, in a database
of its own with 16 KiB pages, read through mmap (marked for random access: storage/
readahead.py) and attached to the main connection as `cold`.

A query scans one sign-bit vector (48 bytes at 384 dimensions) per faded memory, then reads
only its best candidates' rows, where the int8 vectors that re-rank them live (storage/
search.py). The bits are kept in chunks of CHUNK vectors, one row each, so a scan reads long
contiguous runs of pages and scores a whole chunk in one numpy operation, whatever the number
of candidates wanted. The bits sit in the same file as the rows they index, so they commit
together; storage/journal.py keeps this file consistent with the main one.
"""

from __future__ import annotations

from pathlib import Path

import apsw
import numpy as np

from storage import layout, vectors
from storage.cipher import Key, WrongKeyError, apply_key, attach_key, unopened
from storage.connection import create_private, immediate
from storage.errors import StorageError

SCHEMA = "cold"
CHUNKS = f"{SCHEMA}.bit_chunks"  # chunk -> ids (int64) and their sign bits, in order
SLOTS = f"{SCHEMA}.bit_slots"  # memory id -> the chunk that holds it
PAGE_SIZE = 16 * 1024
# Vectors per chunk: 24 KiB of bits at 384 dimensions, read as one run of pages; small
# enough that adding or removing one rewrites little.
CHUNK = 512
_BATCH = 32  # chunks scored together
_IDENTITY = "cold_file_id"  # the same in a store's two files: they belong together
_PAIRED = "paired"  # set once a main file has recorded this cold file's identity


def cold_path(store_path: Path | None) -> str:
    """The cold file beside the store: papertape.db -> papertape-cold.db."""
    if store_path is None:
        return ":memory:"
    return str(store_path.with_name(f"{store_path.stem}-cold{store_path.suffix or '.db'}"))


def _pragma(conn: apsw.Connection, statement: str) -> list[tuple[object, ...]]:
    return list(conn.execute(f"PRAGMA {SCHEMA}.{statement}"))


def attach(
    conn: apsw.Connection, path: str, *, cache_kib: int, mmap_bytes: int, key: Key | None = None
) -> None:
    """Attach (creating if needed) the cold file with its pragmas and tables, keyed like the
    main file. A store whose main file was paired with a cold file refuses to open with any
    other, or with none. An encrypted cold file is read through SQLite's pager, not mmap:
    sqlite3mc turns memory-mapped reads off for encrypted files."""
    if path != ":memory:":
        if not Path(path).exists():
            _check_belongs(conn, path, found="")
        create_private(Path(path))
    conn.execute(f"ATTACH DATABASE ? AS {SCHEMA} KEY ?", (path, attach_key(key)))
    try:
        list(conn.execute(f"SELECT count(*) FROM {SCHEMA}.sqlite_master"))
    except apsw.NotADBError:
        conn.execute(f"DETACH DATABASE {SCHEMA}")
        raise WrongKeyError(unopened(path, key)) from None
    if not list(conn.execute(f"SELECT 1 FROM {SCHEMA}.sqlite_master LIMIT 1")):
        _pragma(conn, f"page_size={PAGE_SIZE}")  # only takes before the first table
    if path != ":memory:":
        _pragma(conn, "journal_mode=WAL")
    _pragma(conn, "synchronous=NORMAL")
    _pragma(conn, "secure_delete=ON")
    _pragma(conn, f"cache_size=-{int(cache_kib)}")
    _pragma(conn, f"mmap_size={int(mmap_bytes)}")
    with immediate(conn):  # opened while another process writes (the UI beside the CLI)
        layout.create_memories(conn, SCHEMA, tiers=vectors.COLD_TIERS)
        layout.create_blobs(conn, SCHEMA)
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {CHUNKS} (chunk INTEGER PRIMARY KEY, "
            "ids BLOB NOT NULL, bits BLOB NOT NULL)"
        )
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {SLOTS} (memory_id INTEGER PRIMARY KEY, "
            "chunk INTEGER NOT NULL)"
        )
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {SCHEMA}.cold_meta (key TEXT PRIMARY KEY, value TEXT)"
        )
        conn.execute(
            f"INSERT OR IGNORE INTO {SCHEMA}.cold_meta (key, value) "
            "VALUES (?, lower(hex(randomblob(16))))",
            (_IDENTITY,),
        )
    _check_belongs(conn, path, found=identity(conn))


def identity(conn: apsw.Connection) -> str:
    return _meta(conn, f"{SCHEMA}.cold_meta", _IDENTITY) or ""


def _check_belongs(conn: apsw.Connection, path: str, found: str) -> None:
    # A lost or swapped cold file would otherwise read as a store whose faded memories vanished.
    if not list(conn.execute("SELECT 1 FROM main.sqlite_master WHERE name = 'store_meta'")):
        # A new main file. Beside a cold file that already served a store, it means the main
        # file was lost or emptied: starting afresh would bury that store for good.
        if found and _served_a_store(conn):
            raise orphaned(path)
        return
    paired = _meta(conn, "main.store_meta", _IDENTITY)
    if paired is not None and paired != found:
        raise StorageError(
            f"the cold file {path} is missing or belongs to another store, so this store's "
            "hazy and archived memories cannot be read; put the store's own cold file back "
            "beside it (back up and move both files together)."
        )


def orphaned(path: str) -> StorageError:
    return StorageError(
        f"the store file beside {path} is missing or empty, but that cold file belongs to a "
        "store: restore the store file from a backup or import your last export into a new "
        "home; to start afresh here, move the cold file away first."
    )


def refuse_orphan(path: str, key: Key | None = None) -> None:
    """Before a new main file is made: refuse when the cold file at `path` served a store
    (read on a connection of its own, so nothing is written beside it)."""
    if path == ":memory:" or not Path(path).exists() or Path(path).stat().st_size == 0:
        return
    conn = apsw.Connection(path, flags=apsw.SQLITE_OPEN_READWRITE)
    try:
        apply_key(conn, key)
        served = _served_a_store(conn, "main")
    finally:
        conn.close()
    if served:
        raise orphaned(path)


def pair(conn: apsw.Connection) -> None:
    """Record the cold file's identity in the main file, and in the cold file that it is
    paired (call inside a transaction)."""
    conn.execute(
        "INSERT OR REPLACE INTO main.store_meta (key, value) VALUES (?, ?)",
        (_IDENTITY, identity(conn)),
    )
    mark_paired(conn)


def mark_paired(conn: apsw.Connection) -> None:
    """Note in the cold file that a main file holds its identity (stores paired before this
    mark existed get it when next opened)."""
    if not is_paired(conn):
        conn.execute(f"INSERT INTO {SCHEMA}.cold_meta (key, value) VALUES (?, '1')", (_PAIRED,))


def is_paired(conn: apsw.Connection) -> bool:
    return _meta(conn, f"{SCHEMA}.cold_meta", _PAIRED) is not None


def _served_a_store(conn: apsw.Connection, schema: str = SCHEMA) -> bool:
    """Whether the cold file attached as `schema` was paired with a main file or holds
    memories."""
    tables = {str(r[0]) for r in conn.execute(f"SELECT name FROM {schema}.sqlite_master")}
    if "cold_meta" in tables and _meta(conn, f"{schema}.cold_meta", _PAIRED) is not None:
        return True
    return "memories" in tables and bool(
        list(conn.execute(f"SELECT 1 FROM {schema}.memories LIMIT 1"))
    )


def _meta(conn: apsw.Connection, table: str, key: str) -> str | None:
    rows = list(conn.execute(f"SELECT value FROM {table} WHERE key = ?", (key,)))
    return str(rows[0][0]) if rows else None


def count(conn: apsw.Connection) -> int:
    return int(next(iter(conn.execute(f"SELECT count(*) FROM {SLOTS}")))[0])


def rebuild(conn: apsw.Connection, dim: int) -> int:
    """Rebuild the index from every faded row's vector; returns how many it holds."""
    conn.execute(f"DELETE FROM {CHUNKS}")
    conn.execute(f"DELETE FROM {SLOTS}")
    rows = conn.execute(
        f"SELECT id, cold_vector FROM {SCHEMA}.memories WHERE cold_vector IS NOT NULL ORDER BY id"
    )
    ids: list[int] = []
    bits: list[bytes] = []
    chunk = 0
    total = 0

    def flush() -> None:
        nonlocal chunk
        if ids:
            chunk += 1
            conn.execute(
                f"INSERT INTO {CHUNKS} (chunk, ids, bits) VALUES (?, ?, ?)",
                (chunk, np.array(ids, dtype=np.int64).tobytes(), b"".join(bits)),
            )
            conn.executemany(
                f"INSERT INTO {SLOTS} (memory_id, chunk) VALUES (?, ?)",
                [(mid, chunk) for mid in ids],
            )
            ids.clear()
            bits.clear()

    for memory_id, blob in list(rows):
        ids.append(int(memory_id))
        bits.append(vectors.sign_bits(bytes(blob), dim))
        total += 1
        if len(ids) == CHUNK:
            flush()
    flush()
    return total


def put(conn: apsw.Connection, memory_id: int, blob: bytes, dim: int) -> None:
    """Index a faded memory's stored vector (any encoding). Call inside a transaction."""
    _remove(conn, memory_id)
    entry = vectors.sign_bits(blob, dim)
    last = list(conn.execute(f"SELECT chunk, ids, bits FROM {CHUNKS} ORDER BY chunk DESC LIMIT 1"))
    if last and len(last[0][1]) // 8 < CHUNK:
        chunk, ids, bits = last[0]
        conn.execute(
            f"UPDATE {CHUNKS} SET ids = ?, bits = ? WHERE chunk = ?",
            (bytes(ids) + np.int64(memory_id).tobytes(), bytes(bits) + entry, chunk),
        )
    else:
        chunk = (int(last[0][0]) if last else 0) + 1
        conn.execute(
            f"INSERT INTO {CHUNKS} (chunk, ids, bits) VALUES (?, ?, ?)",
            (chunk, np.int64(memory_id).tobytes(), entry),
        )
    conn.execute(f"INSERT INTO {SLOTS} (memory_id, chunk) VALUES (?, ?)", (memory_id, chunk))


def drop(conn: apsw.Connection, memory_id: int) -> bool:
    """Take a memory out of the index; False when it was not in it."""
    return _remove(conn, memory_id)


def _remove(conn: apsw.Connection, memory_id: int) -> bool:
    slot = list(conn.execute(f"SELECT chunk FROM {SLOTS} WHERE memory_id = ?", (memory_id,)))
    if not slot:
        return False
    chunk = slot[0][0]
    ids_blob, bits_blob = next(
        iter(conn.execute(f"SELECT ids, bits FROM {CHUNKS} WHERE chunk = ?", (chunk,)))
    )
    ids = np.frombuffer(bytes(ids_blob), dtype=np.int64)
    width = len(bits_blob) // len(ids)
    keep = ids != memory_id
    if keep.any():
        bits = np.frombuffer(bytes(bits_blob), dtype=np.uint8).reshape(len(ids), width)
        conn.execute(
            f"UPDATE {CHUNKS} SET ids = ?, bits = ? WHERE chunk = ?",
            (ids[keep].tobytes(), bits[keep].tobytes(), chunk),
        )
    else:
        conn.execute(f"DELETE FROM {CHUNKS} WHERE chunk = ?", (chunk,))
    conn.execute(f"DELETE FROM {SLOTS} WHERE memory_id = ?", (memory_id,))
    return True


def search(conn: apsw.Connection, bits: bytes, k: int) -> list[tuple[int, float]]:
    """The `k` nearest faded memories by Hamming distance, nearest first.

    Chunks are scored a batch at a time and only the best `k` kept between batches, so the
    memory a scan takes stays small however large the tier grows."""
    if k <= 0:
        return []
    query = np.frombuffer(bits, dtype=np.uint8)
    best_ids = np.empty(0, dtype=np.int64)
    best = np.empty(0, dtype=np.int64)
    batch_ids: list[bytes] = []
    batch_bits: list[bytes] = []

    def score() -> None:
        nonlocal best_ids, best
        ids = np.frombuffer(b"".join(batch_ids), dtype=np.int64)
        matrix = np.frombuffer(b"".join(batch_bits), dtype=np.uint8).reshape(len(ids), -1)
        distances = np.bitwise_count(matrix ^ query).sum(axis=1, dtype=np.int64)
        best_ids = np.concatenate([best_ids, ids])
        best = np.concatenate([best, distances])
        if len(best) > k:
            keep = np.argpartition(best, k - 1)[:k]
            best_ids, best = best_ids[keep], best[keep]
        batch_ids.clear()
        batch_bits.clear()

    for ids_blob, bits_blob in conn.execute(f"SELECT ids, bits FROM {CHUNKS} ORDER BY chunk"):
        batch_ids.append(bytes(ids_blob))
        batch_bits.append(bytes(bits_blob))
        if len(batch_ids) == _BATCH:
            score()
    if batch_ids:
        score()
    order = np.lexsort((best_ids, best))
    return [(int(best_ids[i]), float(best[i])) for i in order]
