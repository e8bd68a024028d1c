"""MemoryStore: memories, their links, vectors and keyword index over one connection.

The layout is flash-aware (DESIGN.md, "LLM in a flash"): sharp rows, the sharp tier's float
vectors, the keyword index and the links live in the main file; hazy and archived rows, their
blobs and their sign-bit scan index live in the cold file (storage/cold.py); both tables are
clustered by tier and time (storage/layout.py) and kept consistent across a crash by the
journal (storage/journal.py). The page caches, the cold mmap and the window of recent recalls
share one RAM budget (storage/budget.py).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import cast

import apsw
import numpy as np

from storage import cold, convert, health, journal, layout, vectors
from storage.budget import RamBudget
from storage.cipher import Key
from storage.connection import create_private, open_connection
from storage.errors import StorageError
from storage.layout import COLD, SCHEMAS
from storage.migrate import migrate
from storage.migrations import STALE_SCAN_INDEX, SchemaContext
from storage.readahead import RandomAccess
from storage.records import (
    TIERS,
    Memory,
    NewMemory,
)
from storage.search import indexed_text
from storage.store_blobs import Blobs
from storage.store_links import Links
from storage.store_marks import MarksAndMeta
from storage.store_reads import Reads
from storage.store_recent import RecentReads
from storage.store_speakers import Speakers
from storage.store_times import Times
from storage.store_upkeep import Upkeep, store_files
from storage.store_vectors import VectorColumns
from storage.window import RecentWindow

log = logging.getLogger(__name__)


def _rebuild_stale_scan_index(conn: apsw.Connection, vector_dim: int) -> None:
    """Build the cold file's scan index where a migration moved rows without it."""
    stale = ("SELECT 1 FROM main.store_meta WHERE key = ?", (STALE_SCAN_INDEX,))
    if list(conn.execute(*stale)):
        with conn:
            cold.rebuild(conn, vector_dim)
            conn.execute("DELETE FROM main.store_meta WHERE key = ?", (STALE_SCAN_INDEX,))


class MemoryStore(
    Blobs, Links, MarksAndMeta, Reads, RecentReads, Speakers, Times, Upkeep, VectorColumns
):
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
        self._depth = 0  # transaction() nesting
        self._cold_touched: set[int] = set()  # cold rows the open transaction changed
        self._cold_access = RandomAccess(cold.cold_path(path))

    @classmethod
    def open(
        cls,
        path: Path | str,
        *,
        vector_dim: int,
        embedder: str,
        budget: RamBudget | None = None,
        key: Key | None = None,
    ) -> MemoryStore:
        """Open (creating if needed) and migrate the store at `path` and its cold file; a
        commit that a crash left in only one of the two files is completed first, and so is
        a conversion (storage/convert.py) a crash cut off. `key` opens (or creates) an
        encrypted store; a wrong one raises WrongKeyError, none for an encrypted store
        KeyNeededError."""
        budget = budget or RamBudget()
        location = None if str(path) == ":memory:" else Path(path)
        if location is not None:
            location.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            convert.recover(location)
            cold_file = cold.cold_path(location)
            for file in (location, Path(cold_file)):
                health.check_header(file, encrypted=key is not None)
            if not location.exists() or location.stat().st_size == 0:
                try:
                    cold.refuse_orphan(cold_file, key)
                except health.DAMAGE_ERRORS as exc:
                    raise health.damaged(cold_file, str(exc)) from None
            create_private(location)  # SQLite gives the WAL and shm files the same mode
        conn = open_connection(path, cache_kib=budget.main_cache_kib, key=key)
        try:
            try:
                cold.attach(
                    conn,
                    cold.cold_path(location),
                    cache_kib=budget.cold_cache_kib,
                    mmap_bytes=budget.cold_mmap_bytes,
                    key=key,
                )
            except health.DAMAGE_ERRORS as exc:
                raise health.damaged(cold.cold_path(location), str(exc)) from None
            except apsw.Error as exc:
                raise StorageError(f"cannot open the cold file beside {path}: {exc}.") from exc
            if location is not None:
                health.quick_check(conn, SCHEMAS, store_files(location)[::3])
            try:
                if journal.pending(conn):
                    journal.replay(conn, vector_dim)
                migrate(conn, SchemaContext(vector_dim=vector_dim, embedder=embedder))
                if journal.pending(conn):  # a migration's copy, now in both files
                    journal.clear(conn)
                if not cold.is_paired(conn):
                    with conn:
                        cold.mark_paired(conn)
                _rebuild_stale_scan_index(conn, vector_dim)
            except health.DAMAGE_ERRORS as exc:
                raise health.damaged(path, str(exc)) from None
        except BaseException:
            conn.close()
            raise
        store = cls(conn, location, vector_dim, budget)
        # SQLite maps the cold file at the first page it reads there: read one, then mark.
        list(conn.execute(f"SELECT 1 FROM {COLD}.memories LIMIT 1"))
        store._cold_access.refresh()
        return store

    def close(self) -> None:
        with suppress(apsw.Error):  # what a refused checkpoint left in the WAL goes now
            list(self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)"))
        self.conn.close()

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[apsw.Connection]:
        """All-or-nothing: commits on success, rolls back on any exception; nested calls are
        savepoints. The outermost one journals the cold rows it changed before it commits,
        and takes the write lock as it begins: one that read first could not write once
        another connection had committed since ("database is locked" at once, no wait)."""
        if self._depth:
            with self._scope(f"nested_{self._depth}"):
                yield self.conn
            return
        self._cold_touched = set()
        own = not self.conn.in_transaction  # else a caller's own BEGIN encloses this one
        with self._scope(None if own else "outermost", journal_cold=True):
            yield self.conn
        if own and self._cold_touched:
            journal.clear(self.conn)  # committed in both files

    @contextmanager
    def _scope(self, savepoint: str | None, journal_cold: bool = False) -> Iterator[None]:
        """A transaction (savepoint None) or a savepoint, undone on any exception. Some errors
        (a full disk) make SQLite roll the whole transaction back itself; then there is
        nothing left to undo, and the original error is the one that surfaces."""
        begin, undo, finish = (
            ("BEGIN IMMEDIATE", ("ROLLBACK",), "COMMIT")
            if savepoint is None
            else (
                f"SAVEPOINT {savepoint}",
                (f"ROLLBACK TO {savepoint}", f"RELEASE {savepoint}"),
                f"RELEASE {savepoint}",
            )
        )
        self.conn.execute(begin)
        self._depth += 1
        try:
            yield
            if journal_cold:
                journal.record(self.conn, self._cold_touched)
            self.conn.execute(finish)
        except BaseException:
            if self.conn.in_transaction:
                for statement in undo:
                    self.conn.execute(statement)
            raise
        finally:
            self._depth -= 1

    def _changed_cold(self, memory_id: int) -> None:
        assert self._depth, "cold rows change only inside transaction()"
        self._cold_touched.add(memory_id)

    def _home(self, memory_id: int) -> str:
        schema = layout.home(self.conn, memory_id)
        if schema is None:
            raise StorageError(f"no memory with id {memory_id}.")
        return schema

    def _update(self, assignments: str, params: Sequence[object], memory_id: int) -> bool:
        """UPDATE one memory's row, wherever it lives; False when there is no such row."""
        changed = False
        for schema in SCHEMAS:
            self.conn.execute(
                f"UPDATE {schema}.memories SET {assignments} WHERE id = ?", (*params, memory_id)
            )
            if self.conn.changes():
                changed = True
                if schema == COLD:
                    self._changed_cold(memory_id)
        return changed

    # -- writing -----------------------------------------------------------------------------

    def add(self, memory: NewMemory, vector: np.ndarray | None) -> int:
        """Insert one memory with its vector (encoded for its tier), in its tier's file;
        returns its id."""
        with self.transaction():
            if memory.id is not None and layout.home(self.conn, memory.id) is not None:
                raise StorageError(f"a memory with id {memory.id} already exists.")
            if self.find_by_hash(memory.content_hash) is not None:
                raise StorageError("a memory with this content is already stored.")
            new_id = memory.id if memory.id is not None else layout.next_id(self.conn)
            layout.raise_last_id(self.conn, new_id)
            schema = layout.schema_for(memory.tier)
            blob = None if vector is None else vectors.encode(vector, memory.tier, self.vector_dim)
            row = {
                "id": new_id,
                "kind": memory.kind,
                "source": memory.source,
                "occurred_at": memory.occurred_at,
                "ingested_at": memory.ingested_at,
                "content_hash": memory.content_hash,
                "text": memory.text,
                "tier": memory.tier,
                "importance": memory.importance,
                "strength": memory.strength,
                "last_recalled_at": memory.last_recalled_at,
                "recall_count": memory.recall_count,
                "pinned": int(memory.pinned),
                "vector_bytes": 0 if blob is None else self._vector_size(memory.tier, blob),
                "cold_vector": None,
            }
            self._insert_row(schema, row)
            self.conn.execute(
                "INSERT INTO memory_fts (rowid, text) VALUES (?, ?)",
                (new_id, indexed_text(memory.text)),
            )
            if blob is not None:
                self._insert_vector(new_id, memory.tier, blob)
        return new_id

    def _insert_row(self, schema: str, row: dict[str, object]) -> None:
        columns = ", ".join(row)
        marks = ", ".join("?" * len(row))
        self.conn.execute(
            f"INSERT INTO {schema}.memories ({columns}) VALUES ({marks})", list(row.values())
        )
        if schema == COLD:
            self._changed_cold(cast(int, row["id"]))

    def _unindex_text(self, memory_id: int) -> None:
        """Take a memory's terms out of the keyword index; call before its text changes."""
        memory = self._rows([memory_id]).get(memory_id)
        if memory is not None:
            self.conn.execute(
                "INSERT INTO memory_fts (memory_fts, rowid, text) VALUES ('delete', ?, ?)",
                (memory_id, indexed_text(memory.text)),
            )

    def _reindex_text(self, memory_id: int, text: str) -> None:
        self._unindex_text(memory_id)
        self.conn.execute(
            "INSERT INTO memory_fts (rowid, text) VALUES (?, ?)", (memory_id, indexed_text(text))
        )
        self._drop_time_unless_in(memory_id, text)

    def move_to_tier(self, memory_id: int, tier: str, text: str | None = None) -> None:
        """Move a memory to `tier`: its vector re-encoded for that tier, its row and blobs
        into that tier's file and, when given, its text replaced (the keyword index follows).
        A memory already in `tier` keeps its vector as stored: only its text changes."""
        if tier not in TIERS:
            raise ValueError(f"unknown tier {tier!r}; valid tiers: {', '.join(TIERS)}")
        with self.transaction():
            source = self._home(memory_id)
            target = layout.schema_for(tier)
            stays = source == target and list(
                self.conn.execute(
                    f"SELECT 1 FROM {source}.memories WHERE id = ? AND tier = ?", (memory_id, tier)
                )
            )
            if stays:
                if text is not None:
                    self._reindex_text(memory_id, text)
                    self._update("text = ?", (text,), memory_id)
                return
            vector = self.vector(memory_id)
            self._delete_vectors(memory_id)
            blob = None if vector is None else vectors.encode(vector, tier, self.vector_dim)
            size = 0 if blob is None else self._vector_size(tier, blob)
            if text is not None:
                self._reindex_text(memory_id, text)
            if source == target:
                self._update(
                    "tier = ?, vector_bytes = ?, text = coalesce(?, text)",
                    (tier, size, text),
                    memory_id,
                )
            else:
                self._relocate(memory_id, source, target, tier=tier, vector_bytes=size, text=text)
            if blob is not None:
                self._insert_vector(memory_id, tier, blob)

    def _relocate(self, memory_id: int, source: str, target: str, **changes: object) -> None:
        """Move a row and its blobs from one file to the other, applying `changes` (None
        leaves a column as it is)."""
        columns = ", ".join(layout.STORED)
        found = next(
            iter(
                self.conn.execute(
                    f"SELECT {columns} FROM {source}.memories WHERE id = ?", (memory_id,)
                )
            )
        )
        row = dict(zip(layout.STORED, found, strict=True))
        row.update({key: value for key, value in changes.items() if value is not None})
        row["cold_vector"] = None  # written again by _insert_vector, in the new encoding
        self._insert_row(target, row)
        self.conn.execute(
            f"INSERT INTO {target}.memory_blobs SELECT memory_id, role, media_type, data, meta "
            f"FROM {source}.memory_blobs WHERE memory_id = ?",
            (memory_id,),
        )
        # Blobs go with the row (ON DELETE CASCADE).
        self.conn.execute(f"DELETE FROM {source}.memories WHERE id = ?", (memory_id,))
        if source == COLD:
            self._changed_cold(memory_id)

    def update_memory(
        self,
        memory_id: int,
        *,
        importance: float | None = None,
        strength: float | None = None,
        recall_count: int | None = None,
    ) -> None:
        """Change the lifecycle numbers of one memory (None leaves a field as it is)."""
        with self.transaction():
            self._update(
                "importance = coalesce(?, importance), strength = coalesce(?, strength), "
                "recall_count = coalesce(?, recall_count)",
                (importance, strength, recall_count),
                memory_id,
            )

    # -- blobs -------------------------------------------------------------------------------

    def delete(self, ids: Iterable[int]) -> int:
        """Delete memories for good: rows, blobs, links, vectors and index terms. Returns the
        count."""
        removed = 0
        with self.transaction():
            for memory_id in ids:
                schema = layout.home(self.conn, memory_id)
                if schema is None:
                    continue
                self._delete_vectors(memory_id)
                self._unindex_text(memory_id)
                self.conn.execute(
                    "DELETE FROM memory_links WHERE from_id = ? OR to_id = ?",
                    (memory_id, memory_id),
                )
                self.conn.execute("DELETE FROM memory_marks WHERE memory_id = ?", (memory_id,))
                self.conn.execute("DELETE FROM memory_times WHERE memory_id = ?", (memory_id,))
                self.conn.execute("DELETE FROM memory_speakers WHERE memory_id = ?", (memory_id,))
                # Blobs go with the row (ON DELETE CASCADE).
                self.conn.execute(f"DELETE FROM {schema}.memories WHERE id = ?", (memory_id,))
                if schema == COLD:
                    self._changed_cold(memory_id)
                removed += 1
        return removed

    def set_pinned(self, memory_id: int, pinned: bool) -> bool:
        """Pin or unpin; False when no such memory."""
        with self.transaction():
            return self._update("pinned = ?", (int(pinned),), memory_id)

    def record_recalls(self, updates: Iterable[tuple[int, float, float]]) -> None:
        """Write (id, new strength, recalled_at) for memories a recall returned, then keep
        them and their neighbours in time in the window."""
        rows = list(updates)
        with self.transaction():
            for memory_id, strength, at in rows:
                self._update(
                    "strength = ?, last_recalled_at = ?, recall_count = recall_count + 1",
                    (strength, at),
                    memory_id,
                )
        self.remember([memory_id for memory_id, _, _ in rows])

    def memory_bytes(self, memory: Memory) -> int:
        """What one memory costs: its UTF-8 text, its vector and its blobs."""
        return len(memory.text.encode("utf-8")) + memory.vector_bytes + self.blob_bytes(memory.id)

    # -- reading -----------------------------------------------------------------------------

    def replace_text(
        self, memory_id: int, text: str, content_hash: str, vector: np.ndarray | None
    ) -> None:
        """New text (and its vector, in the memory's tier) for one memory."""
        memory = self.get(memory_id)
        if memory is None:
            raise StorageError(f"no memory with id {memory_id}.")
        with self.transaction():
            self._reindex_text(memory_id, text)
            self._update("text = ?, content_hash = ?", (text, content_hash), memory_id)
            if vector is not None:
                self.put_encoded_vector(
                    memory_id, memory.tier, vectors.encode(vector, memory.tier, self.vector_dim)
                )
