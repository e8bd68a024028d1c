"""MemoryStore: memories, their links, vectors and keyword index over one connection."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import cast

import apsw
import numpy as np

from storage import search
from storage.connection import DEFAULT_CACHE_KIB, open_connection
from storage.errors import StorageError
from storage.migrations import SchemaContext, migrate
from storage.records import RELATIONS, TIERS, Bucket, Link, Memory, NewMemory, StoreStats

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


class MemoryStore:
    """One store file. Writes go through `transaction()`; one writer at a time (WAL)."""

    def __init__(self, conn: apsw.Connection, path: Path | None, vector_dim: int) -> None:
        self.conn = conn
        self.path = path
        self.vector_dim = vector_dim

    @classmethod
    def open(
        cls,
        path: Path | str,
        *,
        vector_dim: int,
        embedder: str,
        cache_kib: int = DEFAULT_CACHE_KIB,
    ) -> MemoryStore:
        """Open (creating if needed) and migrate the store at `path`."""
        location = None if str(path) == ":memory:" else Path(path)
        if location is not None:
            location.parent.mkdir(parents=True, exist_ok=True)
        conn = open_connection(path, cache_kib=cache_kib)
        try:
            migrate(conn, SchemaContext(vector_dim=vector_dim, embedder=embedder))
        except BaseException:
            conn.close()
            raise
        return cls(conn, location, vector_dim)

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
        """Insert one memory with its vector; returns its id. Call inside `transaction()`."""
        vector_blob = self._vector_blob(vector)
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
                0 if vector_blob is None else len(vector_blob),
            ),
        )
        new_id = cast(int, cursor.fetchall()[0][0])
        if vector_blob is not None:
            self.conn.execute(
                "INSERT INTO memory_vectors (rowid, embedding) VALUES (?, ?)", (new_id, vector_blob)
            )
        return new_id

    def _vector_blob(self, vector: np.ndarray | None) -> bytes | None:
        if vector is None:
            return None
        array = np.ascontiguousarray(vector, dtype=np.float32).reshape(-1)
        if array.shape[0] != self.vector_dim:
            raise StorageError(
                f"a vector of {array.shape[0]} dimensions does not fit this store's "
                f"{self.vector_dim}."
            )
        return array.tobytes()

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
                self.conn.execute("DELETE FROM memory_vectors WHERE rowid = ?", (memory_id,))
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
        """Write (id, new strength, recalled_at) for memories a recall returned."""
        with self.conn:
            self.conn.executemany(
                "UPDATE memories SET strength = ?, last_recalled_at = ?, "
                "recall_count = recall_count + 1 WHERE id = ?",
                [(strength, at, memory_id) for memory_id, strength, at in updates],
            )

    def checkpoint(self) -> None:
        """Fold the WAL into the main file and truncate it, so deleted pages leave the WAL."""
        list(self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)"))

    # -- reading -----------------------------------------------------------------------------

    def get(self, memory_id: int) -> Memory | None:
        rows = list(
            self.conn.execute(f"SELECT {_COLUMNS} FROM memories WHERE id = ?", (memory_id,))
        )
        return _memory(rows[0]) if rows else None

    def get_many(self, ids: Sequence[int]) -> dict[int, Memory]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self.conn.execute(f"SELECT {_COLUMNS} FROM memories WHERE id IN ({marks})", ids)
        return {memory.id: memory for memory in map(_memory, rows)}

    def find_by_hash(self, content_hash: str) -> int | None:
        rows = list(
            self.conn.execute("SELECT id FROM memories WHERE content_hash = ?", (content_hash,))
        )
        return int(rows[0][0]) if rows else None

    def iter_memories(self) -> Iterator[Memory]:
        for row in self.conn.execute(f"SELECT {_COLUMNS} FROM memories ORDER BY id"):
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

    def vector(self, memory_id: int) -> np.ndarray | None:
        rows = list(
            self.conn.execute("SELECT embedding FROM memory_vectors WHERE rowid = ?", (memory_id,))
        )
        if not rows:
            return None
        return np.frombuffer(rows[0][0], dtype=np.float32).copy()

    def count(self) -> int:
        return int(next(iter(self.conn.execute("SELECT count(*) FROM memories")))[0])

    def vector_search(self, query: np.ndarray, limit: int) -> list[tuple[int, float]]:
        return search.vector_search(self.conn, query, limit)

    def keyword_search(self, terms: list[str], limit: int) -> list[tuple[int, float]]:
        return search.keyword_search(self.conn, terms, limit)

    def stats(self) -> StoreStats:
        """Counts and bytes (UTF-8 text plus vector bytes) per tier and per kind."""
        size = "length(CAST(text AS BLOB)) + vector_bytes"
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
        total = 0
        for suffix in ("", "-wal", "-shm"):
            candidate = Path(str(self.path) + suffix)
            if candidate.exists():
                total += os.path.getsize(candidate)
        return total

    def integrity_check(self) -> str:
        return str(next(iter(self.conn.execute("PRAGMA integrity_check")))[0])
