"""MemoryStore: memories, their links, vectors and keyword index over one connection.

The layout is flash-aware (DESIGN.md, "LLM in a flash"): the main file holds the rows, FTS5
and the sharp tier's float vectors; the faded tiers' scan index lives in the cold file
(storage/cold.py); a faded memory's re-rank vector sits in its own row; the page caches, the
cold mmap and the window of recent recalls share one RAM budget (storage/budget.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import cast

import apsw
import numpy as np

from storage import cold, search, vectors
from storage.budget import RamBudget
from storage.connection import open_connection
from storage.errors import StorageError
from storage.migrations import SchemaContext, migrate
from storage.records import (
    BLOB_ROLES,
    RELATIONS,
    TIERS,
    Blob,
    Bucket,
    Link,
    Memory,
    NewMemory,
    StoreStats,
)
from storage.window import RecentWindow

# Rows either side of a recalled memory that come into the window with it: ids follow ingest
# order, so they are its neighbours in time and lie on the same or the next B-tree page.
NEIGHBOURS = 2

_COLUMNS = (
    "id, kind, source, occurred_at, ingested_at, content_hash, text, tier, importance, "
    "strength, last_recalled_at, recall_count, pinned, vector_bytes"
)


def _memory(row: Sequence[object]) -> Memory:
    (
        id_,
        kind,
        source,
        occurred,
        ingested,
        chash,
        text,
        tier,
        imp,
        strength,
        recalled,
        count,
        pinned,
        vbytes,
    ) = row
    return Memory(
        id=int(id_),  # type: ignore[call-overload]
        kind=str(kind),
        source=str(source),
        occurred_at=float(occurred),  # type: ignore[arg-type]
        ingested_at=float(ingested),  # type: ignore[arg-type]
        content_hash=str(chash),
        text=str(text),
        tier=str(tier),
        importance=float(imp),  # type: ignore[arg-type]
        strength=float(strength),  # type: ignore[arg-type]
        last_recalled_at=None if recalled is None else float(recalled),  # type: ignore[arg-type]
        recall_count=int(count),  # type: ignore[call-overload]
        pinned=bool(pinned),
        vector_bytes=int(vbytes),  # type: ignore[call-overload]
    )


def store_files(path: Path) -> list[Path]:
    """A store's files on disk: main and cold, each with its WAL and shared memory."""
    bases = (str(path), cold.cold_path(path))
    return [Path(base + suffix) for base in bases for suffix in ("", "-wal", "-shm")]


class MemoryStore:
    """One store: its main file and its cold file, over one connection. Writes go through
    `transaction()`; one writer at a time (WAL)."""

    def __init__(
        self, conn: apsw.Connection, path: Path | None, vector_dim: int, budget: RamBudget
    ) -> None:
        self.conn = conn
        self.path = path
        self.vector_dim = vector_dim
        self.budget = budget
        self.window = RecentWindow(budget.window_bytes)

    @classmethod
    def open(
        cls,
        path: Path | str,
        *,
        vector_dim: int,
        embedder: str,
        budget: RamBudget | None = None,
    ) -> MemoryStore:
        """Open (creating if needed) and migrate the store at `path` and its cold file."""
        budget = budget or RamBudget()
        location = None if str(path) == ":memory:" else Path(path)
        if location is not None:
            location.parent.mkdir(parents=True, exist_ok=True)
        conn = open_connection(path, cache_kib=budget.main_cache_kib)
        try:
            migrate(conn, SchemaContext(vector_dim=vector_dim, embedder=embedder))
            try:
                cold.attach(
                    conn,
                    cold.cold_path(location),
                    dim=vector_dim,
                    cache_kib=budget.cold_cache_kib,
                    mmap_bytes=budget.cold_mmap_bytes,
                )
            except apsw.Error as exc:
                raise StorageError(f"cannot open the cold file beside {path}: {exc}.") from exc
        except BaseException:
            conn.close()
            raise
        return cls(conn, location, vector_dim, budget)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def transaction(self) -> AbstractContextManager[apsw.Connection]:
        """All-or-nothing: commits on success, rolls back on any exception."""
        return self.conn  # apsw's Connection is a savepoint context manager

    # -- writing -----------------------------------------------------------------------------

    def add(self, memory: NewMemory, vector: np.ndarray | None) -> int:
        """Insert one memory with its vector (encoded for its tier); returns its id.
        Call inside `transaction()`."""
        vector_blob = (
            None if vector is None else vectors.encode(vector, memory.tier, self.vector_dim)
        )
        cursor = self.conn.execute(
            "INSERT INTO memories (id, kind, source, occurred_at, ingested_at, content_hash, "
            "text, tier, importance, strength, last_recalled_at, recall_count, pinned, "
            "vector_bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                memory.id,
                memory.kind,
                memory.source,
                memory.occurred_at,
                memory.ingested_at,
                memory.content_hash,
                memory.text,
                memory.tier,
                memory.importance,
                memory.strength,
                memory.last_recalled_at,
                memory.recall_count,
                int(memory.pinned),
                0 if vector_blob is None else self._vector_size(memory.tier, vector_blob),
            ),
        )
        new_id = cast(int, cursor.fetchall()[0][0])
        if vector_blob is not None:
            self._insert_vector(new_id, memory.tier, vector_blob)
        return new_id

    def _insert_vector(self, memory_id: int, tier: str, blob: bytes) -> None:
        if tier == "sharp":
            self.conn.execute(
                f"INSERT INTO {vectors.SHARP_TABLE} (rowid, embedding) VALUES (?, ?)",
                (memory_id, blob),
            )
            return
        self.conn.execute("UPDATE memories SET cold_vector = ? WHERE id = ?", (blob, memory_id))
        cold.put(self.conn, memory_id, blob, self.vector_dim)

    def _delete_vectors(self, memory_id: int) -> None:
        self.conn.execute(f"DELETE FROM {vectors.SHARP_TABLE} WHERE rowid = ?", (memory_id,))
        self.conn.execute("UPDATE memories SET cold_vector = NULL WHERE id = ?", (memory_id,))
        cold.drop(self.conn, memory_id)

    def _vector_size(self, tier: str, blob: bytes) -> int:
        """Bytes a stored vector costs: a faded one also has its sign bits in the cold index."""
        if tier == "sharp":
            return len(blob)
        return len(blob) + vectors.size("bit", self.vector_dim)

    def move_to_tier(self, memory_id: int, tier: str, text: str | None = None) -> None:
        """Move a memory to `tier`: its vector re-encoded for that tier and, when given, its
        text replaced (the FTS entry follows). Call inside `transaction()`."""
        if tier not in TIERS:
            raise ValueError(f"unknown tier {tier!r}; valid tiers: {', '.join(TIERS)}")
        vector = self.vector(memory_id)
        self._delete_vectors(memory_id)
        self.conn.execute("UPDATE memories SET tier = ? WHERE id = ?", (tier, memory_id))
        size = 0
        if vector is not None:
            blob = vectors.encode(vector, tier, self.vector_dim)
            self._insert_vector(memory_id, tier, blob)
            size = self._vector_size(tier, blob)
        self.conn.execute("UPDATE memories SET vector_bytes = ? WHERE id = ?", (size, memory_id))
        if text is not None:
            self.conn.execute("UPDATE memories SET text = ? WHERE id = ?", (text, memory_id))

    def update_memory(
        self,
        memory_id: int,
        *,
        importance: float | None = None,
        strength: float | None = None,
        recall_count: int | None = None,
    ) -> None:
        """Change the lifecycle numbers of one memory (None leaves a field as it is)."""
        self.conn.execute(
            "UPDATE memories SET importance = coalesce(?, importance), "
            "strength = coalesce(?, strength), recall_count = coalesce(?, recall_count) "
            "WHERE id = ?",
            (importance, strength, recall_count, memory_id),
        )

    # -- blobs -------------------------------------------------------------------------------

    def put_blob(self, blob: Blob) -> None:
        if blob.role not in BLOB_ROLES:
            raise ValueError(f"unknown blob role {blob.role!r}; valid: {', '.join(BLOB_ROLES)}")
        self.conn.execute(
            "INSERT OR REPLACE INTO memory_blobs (memory_id, role, media_type, data, meta) "
            "VALUES (?, ?, ?, ?, ?)",
            (blob.memory_id, blob.role, blob.media_type, blob.data, blob.meta),
        )

    def blob(self, memory_id: int, role: str) -> Blob | None:
        rows = list(
            self.conn.execute(
                "SELECT media_type, data, meta FROM memory_blobs WHERE memory_id = ? AND role = ?",
                (memory_id, role),
            )
        )
        if not rows:
            return None
        media_type, data, meta = rows[0]
        return Blob(memory_id, role, str(media_type), bytes(data), str(meta))

    def blobs_of(self, memory_id: int) -> list[Blob]:
        found = (self.blob(memory_id, role) for role in BLOB_ROLES)
        return [blob for blob in found if blob is not None]

    def blob_metas(self, role: str) -> list[tuple[int, str]]:
        """(memory id, meta) of every blob in `role`, without their bytes."""
        rows = self.conn.execute(
            "SELECT memory_id, meta FROM memory_blobs WHERE role = ? ORDER BY memory_id", (role,)
        )
        return [(int(mid), str(meta)) for mid, meta in rows]

    def set_blob_meta(self, memory_id: int, role: str, meta: str) -> None:
        self.conn.execute(
            "UPDATE memory_blobs SET meta = ? WHERE memory_id = ? AND role = ?",
            (meta, memory_id, role),
        )

    def drop_blob(self, memory_id: int, role: str) -> None:
        self.conn.execute(
            "DELETE FROM memory_blobs WHERE memory_id = ? AND role = ?", (memory_id, role)
        )

    def blob_bytes(self, memory_id: int) -> int:
        rows = self.conn.execute(
            "SELECT coalesce(sum(length(data)), 0) FROM memory_blobs WHERE memory_id = ?",
            (memory_id,),
        )
        return int(next(iter(rows))[0])

    def link(self, from_id: int, to_id: int, relation: str, position: int | None = None) -> None:
        if relation not in RELATIONS:
            raise ValueError(f"unknown relation {relation!r}; valid: {', '.join(RELATIONS)}")
        self.conn.execute(
            "INSERT OR IGNORE INTO memory_links (from_id, to_id, relation, position) "
            "VALUES (?, ?, ?, ?)",
            (from_id, to_id, relation, position),
        )

    def delete(self, ids: Iterable[int]) -> int:
        """Delete memories for good: rows, links, vectors and index terms. Returns the count."""
        removed = 0
        with self.conn:
            for memory_id in ids:
                self._delete_vectors(memory_id)
                # Blobs and links go with the row (ON DELETE CASCADE).
                self.conn.execute("DELETE FROM memories WHERE id = ?", (memory_id,))
                removed += self.conn.changes()
        return removed

    def set_pinned(self, memory_id: int, pinned: bool) -> bool:
        """Pin or unpin; False when no such memory."""
        with self.conn:
            self.conn.execute(
                "UPDATE memories SET pinned = ? WHERE id = ?", (int(pinned), memory_id)
            )
            changed = self.conn.changes() > 0
        return changed

    def record_recalls(self, updates: Iterable[tuple[int, float, float]]) -> None:
        """Write (id, new strength, recalled_at) for memories a recall returned, then keep
        them and their neighbours in time in the window."""
        rows = [(strength, at, memory_id) for memory_id, strength, at in updates]
        with self.conn:
            self.conn.executemany(
                "UPDATE memories SET strength = ?, last_recalled_at = ?, "
                "recall_count = recall_count + 1 WHERE id = ?",
                rows,
            )
        self.remember([memory_id for _, _, memory_id in rows])

    def remember(self, ids: Sequence[int]) -> None:
        """Read these memories with their neighbours (one range read each) into the window."""
        if not ids or self.window.budget_bytes == 0:
            return
        token = self._window_token()
        self.window.valid_for(token)
        ranges = " OR ".join("id BETWEEN ? AND ?" for _ in ids)
        bounds = [bound for mid in ids for bound in (mid - NEIGHBOURS, mid + NEIGHBOURS)]
        rows = self.conn.execute(f"SELECT {_COLUMNS} FROM memories WHERE {ranges}", bounds)
        found = {memory.id: memory for memory in map(_memory, rows)}
        # The recalled ones last, so they are the last to be evicted.
        order = [m for mid, m in found.items() if mid not in ids]
        order += [found[mid] for mid in ids if mid in found]
        self.window.keep(order, token)

    def _window_token(self) -> tuple[int, int]:
        version = int(next(iter(self.conn.execute("PRAGMA data_version")))[0])
        return version, self.conn.total_changes()

    def meta(self, key: str) -> str | None:
        rows = list(self.conn.execute("SELECT value FROM store_meta WHERE key = ?", (key,)))
        return str(rows[0][0]) if rows else None

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO store_meta (key, value) VALUES (?, ?)", (key, value)
        )

    def memory_bytes(self, memory: Memory) -> int:
        """What one memory costs: its UTF-8 text, its vector and its blobs."""
        return len(memory.text.encode("utf-8")) + memory.vector_bytes + self.blob_bytes(memory.id)

    def checkpoint(self) -> None:
        """Fold the WALs into their files and truncate them, so deleted pages leave them."""
        list(self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)"))

    def vacuum(self) -> None:
        """Rewrite both files without free pages. Under WAL a file only shrinks when the
        rewritten pages are checkpointed back, hence a checkpoint on either side."""
        self.checkpoint()
        self.conn.execute("VACUUM main")
        self.conn.execute(f"VACUUM {cold.SCHEMA}")
        self.checkpoint()

    # -- reading -----------------------------------------------------------------------------

    def get(self, memory_id: int) -> Memory | None:
        return self.get_many([memory_id]).get(memory_id)

    def get_many(self, ids: Sequence[int]) -> dict[int, Memory]:
        """The memories with these ids that exist; recent recalls come from the window."""
        if not ids:
            return {}
        self.window.valid_for(self._window_token())
        found = self.window.take(ids)
        rest = [mid for mid in ids if mid not in found]
        if rest:
            marks = ",".join("?" * len(rest))
            rows = self.conn.execute(f"SELECT {_COLUMNS} FROM memories WHERE id IN ({marks})", rest)
            found.update((memory.id, memory) for memory in map(_memory, rows))
        return found

    def find_by_hash(self, content_hash: str) -> int | None:
        rows = list(
            self.conn.execute("SELECT id FROM memories WHERE content_hash = ?", (content_hash,))
        )
        return int(rows[0][0]) if rows else None

    def newest(self, before: tuple[float, int] | None, limit: int) -> list[Memory]:
        """Up to `limit` memories older than `before` (occurred_at, id), newest first; page on
        by passing the last one's (occurred_at, id)."""
        when, last_id = before if before is not None else (float("inf"), 0)
        rows = self.conn.execute(
            f"SELECT {_COLUMNS} FROM memories WHERE occurred_at < ? "
            "OR (occurred_at = ? AND id < ?) ORDER BY occurred_at DESC, id DESC LIMIT ?",
            (when, when, last_id, limit),
        )
        return [_memory(row) for row in rows]

    def replace_text(
        self, memory_id: int, text: str, content_hash: str, vector: np.ndarray | None
    ) -> None:
        """New text (and its vector, in the memory's tier) for one memory."""
        memory = self.get(memory_id)
        if memory is None:
            raise StorageError(f"no memory with id {memory_id}.")
        self.conn.execute(
            "UPDATE memories SET text = ?, content_hash = ? WHERE id = ?",
            (text, content_hash, memory_id),
        )
        if vector is not None:
            self.put_encoded_vector(
                memory_id, memory.tier, vectors.encode(vector, memory.tier, self.vector_dim)
            )

    def iter_memories(self, tier: str | None = None) -> Iterator[Memory]:
        """Every memory (or one tier's) in id order; a snapshot, safe to write while reading."""
        if tier is None:
            rows = list(self.conn.execute(f"SELECT {_COLUMNS} FROM memories ORDER BY id"))
        else:
            rows = list(
                self.conn.execute(
                    f"SELECT {_COLUMNS} FROM memories WHERE tier = ? ORDER BY id", (tier,)
                )
            )
        for row in rows:
            yield _memory(row)

    def links_from(self, memory_id: int) -> list[Link]:
        return self._links("from_id", memory_id)

    def links_to(self, memory_id: int) -> list[Link]:
        return self._links("to_id", memory_id)

    def _links(self, column: str, memory_id: int) -> list[Link]:
        rows = self.conn.execute(
            f"SELECT from_id, to_id, relation, position FROM memory_links WHERE {column} = ? "
            "ORDER BY position, from_id, to_id",
            (memory_id,),
        )
        return [Link(int(f), int(t), str(r), None if p is None else int(p)) for f, t, r, p in rows]

    def summaries_of(self, ids: Sequence[int]) -> dict[int, int]:
        """For each of `ids` that a summary covers, the id of that summary."""
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self.conn.execute(
            f"SELECT to_id, from_id FROM memory_links WHERE relation = 'summarizes' "
            f"AND to_id IN ({marks})",
            list(ids),
        )
        return {int(member): int(summary) for member, summary in rows}

    def vector(self, memory_id: int) -> np.ndarray | None:
        """The memory's vector as unit float32, decoded from however its tier keeps it."""
        encoded = self.encoded_vector(memory_id)
        return None if encoded is None else vectors.decode(encoded[1], self.vector_dim)

    def encoded_vector(self, memory_id: int) -> tuple[str, bytes] | None:
        """(encoding, stored bytes) of the memory's vector: float32, int8 or bit."""
        rows = list(
            self.conn.execute(
                f"SELECT embedding FROM {vectors.SHARP_TABLE} WHERE rowid = ?", (memory_id,)
            )
        )
        if not rows:
            rows = list(
                self.conn.execute(
                    "SELECT cold_vector FROM memories WHERE id = ? AND cold_vector IS NOT NULL",
                    (memory_id,),
                )
            )
        if not rows:
            return None
        blob = bytes(rows[0][0])
        return vectors.encoding_of(blob, self.vector_dim), blob

    def put_encoded_vector(self, memory_id: int, tier: str, blob: bytes) -> None:
        """Store a vector already encoded as `tier` keeps it (import keeps it byte for byte)."""
        if vectors.encoding_of(blob, self.vector_dim) not in vectors.ACCEPTED[tier]:
            raise StorageError(f"a {tier} memory cannot hold a vector of {len(blob)} bytes.")
        self._delete_vectors(memory_id)
        self._insert_vector(memory_id, tier, blob)
        self.conn.execute(
            "UPDATE memories SET vector_bytes = ? WHERE id = ?",
            (self._vector_size(tier, blob), memory_id),
        )

    def count(self) -> int:
        return int(next(iter(self.conn.execute("SELECT count(*) FROM memories")))[0])

    def vector_search(
        self, query: np.ndarray, limit: int, tiers: Sequence[str] = TIERS
    ) -> list[tuple[int, float]]:
        """Nearest memories over `tiers`, each searched in its own encoding, with estimated
        cosine similarity, best first."""
        return search.vector_search(self.conn, query, limit, tiers, self.vector_dim)

    def keyword_search(self, terms: list[str], limit: int) -> list[tuple[int, float]]:
        return search.keyword_search(self.conn, terms, limit)

    def stats(self) -> StoreStats:
        """Counts and bytes (UTF-8 text, vector and blob bytes) per tier and per kind."""
        size = (
            "length(CAST(text AS BLOB)) + vector_bytes + (SELECT coalesce(sum(length(data)), 0) "
            "FROM memory_blobs WHERE memory_id = memories.id)"
        )
        tiers = {tier: Bucket() for tier in TIERS}
        for tier, count, nbytes in self.conn.execute(
            f"SELECT tier, count(*), coalesce(sum({size}), 0) FROM memories GROUP BY tier"
        ):
            tiers[str(tier)] = Bucket(int(count), int(nbytes))
        kinds = {
            str(kind): Bucket(int(count), int(nbytes))
            for kind, count, nbytes in self.conn.execute(
                f"SELECT kind, count(*), coalesce(sum({size}), 0) FROM memories GROUP BY kind "
                "ORDER BY kind"
            )
        }
        return StoreStats(
            memories=sum(b.count for b in tiers.values()),
            bytes=sum(b.bytes for b in tiers.values()),
            file_bytes=self._file_bytes(),
            tiers=tiers,
            kinds=kinds,
        )

    def _file_bytes(self) -> int:
        if self.path is None:
            return 0
        return sum(os.path.getsize(f) for f in store_files(self.path) if f.exists())

    def integrity_check(self) -> str:
        return str(next(iter(self.conn.execute("PRAGMA integrity_check")))[0])
