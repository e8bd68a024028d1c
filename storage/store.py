"""MemoryStore: memories, their links, vectors and keyword index over one connection.

The layout is flash-aware (DESIGN.md, "LLM in a flash"): sharp rows, the sharp tier's float
vectors, the keyword index and the links live in the main file; hazy and archived rows, their
blobs and their sign-bit scan index live in the cold file (storage/cold.py); both tables are
clustered by tier and time (storage/layout.py) and kept consistent across a crash by the
journal (storage/journal.py). The page caches, the cold mmap and the window of recent recalls
share one RAM budget (storage/budget.py).
"""

from __future__ import annotations

import heapq
import logging
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import cast

import apsw
import numpy as np

from storage import cold, convert, health, journal, layout, search, vectors
from storage.budget import RamBudget
from storage.cipher import Key
from storage.connection import create_private, open_connection
from storage.errors import StorageError
from storage.layout import COLD, MAIN, SCHEMAS
from storage.migrations import SchemaContext, migrate
from storage.readahead import RandomAccess
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

# Rows either side of a recalled memory, in time, that come into the window with it: the
# tables are clustered by time, so they lie on the same or the next page.
NEIGHBOURS = 2


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


def check_store_files(path: Path, key: Key | None = None) -> dict[str, list[str]]:
    """integrity_check of the store's main and cold files: {file: problems, or ["ok"]}."""
    convert.recover(path)
    return health.check_files(store_files(path)[::3], key)


log = logging.getLogger(__name__)


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
        try:  # what a refused checkpoint left in the WAL goes now
            list(self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)"))
        except apsw.Error:
            pass
        self.conn.close()

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[apsw.Connection]:
        """All-or-nothing: commits on success, rolls back on any exception; nested calls are
        savepoints. The outermost one journals the cold rows it changed before it commits."""
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
            ("BEGIN", ("ROLLBACK",), "COMMIT")
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
                "INSERT INTO memory_fts (rowid, text) VALUES (?, ?)", (new_id, memory.text)
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

    def _insert_vector(self, memory_id: int, tier: str, blob: bytes) -> None:
        if tier == "sharp":
            self.conn.execute(
                f"INSERT INTO {vectors.SHARP_TABLE} (rowid, embedding) VALUES (?, ?)",
                (memory_id, blob),
            )
            return
        self._update("cold_vector = ?", (blob,), memory_id)
        cold.put(self.conn, memory_id, blob, self.vector_dim)

    def _delete_vectors(self, memory_id: int) -> None:
        self.conn.execute(f"DELETE FROM {vectors.SHARP_TABLE} WHERE rowid = ?", (memory_id,))
        self.conn.execute(
            "UPDATE cold.memories SET cold_vector = NULL WHERE id = ? AND cold_vector IS NOT NULL",
            (memory_id,),
        )
        if self.conn.changes() | cold.drop(self.conn, memory_id):
            self._changed_cold(memory_id)

    def _unindex_text(self, memory_id: int) -> None:
        """Take a memory's terms out of the keyword index; call before its text changes."""
        memory = self._rows([memory_id]).get(memory_id)
        if memory is not None:
            self.conn.execute(
                "INSERT INTO memory_fts (memory_fts, rowid, text) VALUES ('delete', ?, ?)",
                (memory_id, memory.text),
            )

    def _reindex_text(self, memory_id: int, text: str) -> None:
        self._unindex_text(memory_id)
        self.conn.execute("INSERT INTO memory_fts (rowid, text) VALUES (?, ?)", (memory_id, text))

    def _vector_size(self, tier: str, blob: bytes) -> int:
        """Bytes a stored vector costs: a faded one also has its sign bits in the cold index."""
        if tier == "sharp":
            return len(blob)
        return len(blob) + vectors.size("bit", self.vector_dim)

    def move_to_tier(self, memory_id: int, tier: str, text: str | None = None) -> None:
        """Move a memory to `tier`: its vector re-encoded for that tier, its row and blobs
        into that tier's file and, when given, its text replaced (the keyword index follows)."""
        if tier not in TIERS:
            raise ValueError(f"unknown tier {tier!r}; valid tiers: {', '.join(TIERS)}")
        with self.transaction():
            source = self._home(memory_id)
            target = layout.schema_for(tier)
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

    def put_blob(self, blob: Blob) -> None:
        """Keep `blob` in the file of its memory's row."""
        if blob.role not in BLOB_ROLES:
            raise ValueError(f"unknown blob role {blob.role!r}; valid: {', '.join(BLOB_ROLES)}")
        with self.transaction():
            schema = self._home(blob.memory_id)
            self.conn.execute(
                f"INSERT OR REPLACE INTO {schema}.memory_blobs "
                "(memory_id, role, media_type, data, meta) VALUES (?, ?, ?, ?, ?)",
                (blob.memory_id, blob.role, blob.media_type, blob.data, blob.meta),
            )
            if schema == COLD:
                self._changed_cold(blob.memory_id)

    def blob(self, memory_id: int, role: str) -> Blob | None:
        for schema in SCHEMAS:
            rows = list(
                self.conn.execute(
                    f"SELECT media_type, data, meta FROM {schema}.memory_blobs "
                    "WHERE memory_id = ? AND role = ?",
                    (memory_id, role),
                )
            )
            if rows:
                media_type, data, meta = rows[0]
                return Blob(memory_id, role, str(media_type), bytes(data), str(meta))
        return None

    def blobs_of(self, memory_id: int) -> list[Blob]:
        found = (self.blob(memory_id, role) for role in BLOB_ROLES)
        return [blob for blob in found if blob is not None]

    def blob_metas(self, role: str) -> list[tuple[int, str]]:
        """(memory id, meta) of every blob in `role`, without their bytes."""
        found = [
            (int(mid), str(meta))
            for schema in SCHEMAS
            for mid, meta in self.conn.execute(
                f"SELECT memory_id, meta FROM {schema}.memory_blobs WHERE role = ?", (role,)
            )
        ]
        return sorted(found)

    def _change_blobs(self, memory_id: int, statement: str, params: Sequence[object]) -> None:
        """Run `statement` (on `{schema}.memory_blobs`) in both files."""
        with self.transaction():
            for schema in SCHEMAS:
                self.conn.execute(statement.format(schema=schema), params)
                if schema == COLD and self.conn.changes():
                    self._changed_cold(memory_id)

    def set_blob_meta(self, memory_id: int, role: str, meta: str) -> None:
        self._change_blobs(
            memory_id,
            "UPDATE {schema}.memory_blobs SET meta = ? WHERE memory_id = ? AND role = ?",
            (meta, memory_id, role),
        )

    def drop_blob(self, memory_id: int, role: str) -> None:
        self._change_blobs(
            memory_id,
            "DELETE FROM {schema}.memory_blobs WHERE memory_id = ? AND role = ?",
            (memory_id, role),
        )

    def blob_bytes(self, memory_id: int) -> int:
        return sum(
            int(
                next(
                    iter(
                        self.conn.execute(
                            f"SELECT coalesce(sum(length(data)), 0) FROM {schema}.memory_blobs "
                            "WHERE memory_id = ?",
                            (memory_id,),
                        )
                    )
                )[0]
            )
            for schema in SCHEMAS
        )

    def link(self, from_id: int, to_id: int, relation: str, position: int | None = None) -> None:
        if relation not in RELATIONS:
            raise ValueError(f"unknown relation {relation!r}; valid: {', '.join(RELATIONS)}")
        for memory_id in (from_id, to_id):
            self._home(memory_id)  # links join memories that exist
        self.conn.execute(
            "INSERT OR IGNORE INTO memory_links (from_id, to_id, relation, position) "
            "VALUES (?, ?, ?, ?)",
            (from_id, to_id, relation, position),
        )

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
                # Blobs go with the row (ON DELETE CASCADE).
                self.conn.execute(f"DELETE FROM {schema}.memories WHERE id = ?", (memory_id,))
                if schema == COLD:
                    self._changed_cold(memory_id)
                removed += 1
        return removed

    def mark(self, ids: Iterable[int], mark: str) -> None:
        """Record that a step (named by `mark`) has dealt with these memories."""
        self.conn.executemany(
            "INSERT OR IGNORE INTO memory_marks (memory_id, mark) VALUES (?, ?)",
            [(memory_id, mark) for memory_id in ids],
        )

    def marked(self, mark: str) -> set[int]:
        """The ids of the memories marked `mark`."""
        rows = self.conn.execute("SELECT memory_id FROM memory_marks WHERE mark = ?", (mark,))
        return {int(row[0]) for row in rows}

    def marks_of(self, memory_id: int) -> list[str]:
        rows = self.conn.execute(
            "SELECT mark FROM memory_marks WHERE memory_id = ? ORDER BY mark", (memory_id,)
        )
        return [str(row[0]) for row in rows]

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

    def remember(self, ids: Sequence[int]) -> None:
        """Read these memories with their neighbours in time into the window: each file is
        clustered by time, so the neighbours are the rows beside it."""
        if not ids or self.window.budget_bytes == 0:
            return
        token = self._window_token()
        self.window.valid_for(token)
        recalled = self._rows(ids)
        found: dict[int, Memory] = {}
        for memory in recalled.values():
            schema = layout.schema_for(memory.tier)
            same_tier = "" if schema == MAIN else "tier = ? AND "
            tier = [] if schema == MAIN else [memory.tier]
            key = [*tier, memory.occurred_at, memory.id]
            for compare, direction in (("<", "DESC"), (">", "ASC")):
                rows = self.conn.execute(
                    f"SELECT {layout.SELECT} FROM {schema}.memories WHERE {same_tier}"
                    f"(occurred_at, id) {compare} (?, ?) "
                    f"ORDER BY occurred_at {direction}, id {direction} LIMIT ?",
                    (*key, NEIGHBOURS),
                )
                found.update((m.id, m) for m in map(_memory, rows))
        # The recalled ones last, so they are the last to be evicted.
        order = [m for mid, m in found.items() if mid not in recalled]
        order += [recalled[mid] for mid in ids if mid in recalled]
        self.window.keep(order, token)

    def _window_token(self) -> tuple[int, int]:
        # Every change to the cold file also writes the main file's journal, so the main
        # file's data_version sees other connections' writes to either file.
        version = int(next(iter(self.conn.execute("PRAGMA data_version")))[0])
        return version, self.conn.total_changes()

    def last_id(self) -> int:
        """The highest id this store has ever given (forgotten memories' ids included)."""
        return layout.last_id(self.conn)

    def raise_last_id(self, memory_id: int) -> None:
        """Never give ids up to `memory_id` (an import brings the mark of the store it came
        from)."""
        with self.transaction():
            layout.raise_last_id(self.conn, memory_id)

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
        """Fold the WALs into their files and truncate them, so deleted pages leave them.

        A statement still open on this connection (a view of the terminal UI reading a page
        at a time) makes SQLite refuse to truncate; then the WAL is folded in as far as it
        can be and truncated at the next checkpoint or when the store closes."""
        try:
            list(self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)"))
        except (apsw.LockedError, apsw.BusyError) as exc:
            log.warning("the WAL could not be truncated now (%s); it will be on close", exc)
            try:
                list(self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)"))
            except (apsw.LockedError, apsw.BusyError):
                pass

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
            found.update(self._rows(rest))
        return found

    def _rows(self, ids: Sequence[int]) -> dict[int, Memory]:
        self._cold_access.refresh()
        marks = ",".join("?" * len(ids))
        found = {
            memory.id: memory
            for schema in SCHEMAS
            for memory in map(
                _memory,
                self.conn.execute(
                    f"SELECT {layout.SELECT} FROM {schema}.memories WHERE id IN ({marks})",
                    list(ids),
                ),
            )
        }
        self._cold_access.refresh()
        return found

    def find_by_hash(self, content_hash: str) -> int | None:
        for schema in SCHEMAS:
            rows = list(
                self.conn.execute(
                    f"SELECT id FROM {schema}.memories WHERE content_hash = ?", (content_hash,)
                )
            )
            if rows:
                return int(rows[0][0])
        return None

    def newest(self, before: tuple[float, int] | None, limit: int) -> list[Memory]:
        """Up to `limit` memories older than `before` (occurred_at, id), newest first; page on
        by passing the last one's (occurred_at, id)."""
        when, last_id = before if before is not None else (float("inf"), 0)
        per_file = [
            [
                _memory(row)
                for row in self.conn.execute(
                    f"SELECT {layout.SELECT} FROM {schema}.memories "
                    "WHERE (occurred_at, id) < (?, ?) ORDER BY occurred_at DESC, id DESC LIMIT ?",
                    (when, last_id, limit),
                )
            ]
            for schema in SCHEMAS
        ]
        merged = heapq.merge(*per_file, key=lambda m: (-m.occurred_at, -m.id))
        return list(merged)[:limit]

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

    def iter_memories(self, tier: str | None = None) -> Iterator[Memory]:
        """Every memory (or one tier's) in id order; a snapshot, safe to write while reading."""
        if tier is None:
            rows = [
                row
                for schema in SCHEMAS
                for row in self.conn.execute(f"SELECT {layout.SELECT} FROM {schema}.memories")
            ]
        else:
            rows = list(
                self.conn.execute(
                    f"SELECT {layout.SELECT} FROM {layout.schema_for(tier)}.memories "
                    "WHERE tier = ?",
                    (tier,),
                )
            )
        yield from sorted(map(_memory, rows), key=lambda m: m.id)

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
                    "SELECT cold_vector FROM cold.memories WHERE id = ? "
                    "AND cold_vector IS NOT NULL",
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
        with self.transaction():
            self._delete_vectors(memory_id)
            self._insert_vector(memory_id, tier, blob)
            self._update("vector_bytes = ?", (self._vector_size(tier, blob),), memory_id)

    def count(self) -> int:
        return sum(
            int(next(iter(self.conn.execute(f"SELECT count(*) FROM {schema}.memories")))[0])
            for schema in SCHEMAS
        )

    def vector_search(
        self, query: np.ndarray, limit: int, tiers: Sequence[str] = TIERS
    ) -> list[tuple[int, float]]:
        """Nearest memories over `tiers`, each searched in its own encoding, with estimated
        cosine similarity, best first."""
        self._cold_access.refresh()
        try:
            return search.vector_search(self.conn, query, limit, tiers, self.vector_dim)
        finally:
            self._cold_access.refresh()  # a first mapping, made by this search

    def keyword_search(self, terms: list[str], limit: int) -> list[tuple[int, float]]:
        return search.keyword_search(self.conn, terms, limit)

    def stats(self) -> StoreStats:
        """Counts and bytes (UTF-8 text, vector and blob bytes) per tier and per kind."""
        tiers = {tier: Bucket() for tier in TIERS}
        kinds: dict[str, Bucket] = {}
        for schema in SCHEMAS:
            size = (
                "length(CAST(text AS BLOB)) + vector_bytes + (SELECT coalesce(sum(length(data)), "
                f"0) FROM {schema}.memory_blobs b WHERE b.memory_id = m.id)"
            )
            for column, buckets in (("tier", tiers), ("kind", kinds)):
                for name, count, nbytes in self.conn.execute(
                    f"SELECT {column}, count(*), coalesce(sum({size}), 0) "
                    f"FROM {schema}.memories m GROUP BY {column}"
                ):
                    before = buckets.get(str(name), Bucket())
                    buckets[str(name)] = Bucket(
                        before.count + int(count), before.bytes + int(nbytes)
                    )
        return StoreStats(
            memories=sum(b.count for b in tiers.values()),
            bytes=sum(b.bytes for b in tiers.values()),
            file_bytes=self._file_bytes(),
            tiers=tiers,
            kinds=dict(sorted(kinds.items())),
        )

    def _file_bytes(self) -> int:
        if self.path is None:
            return 0
        return sum(os.path.getsize(f) for f in store_files(self.path) if f.exists())

    def integrity_check(self) -> str:
        return str(next(iter(self.conn.execute("PRAGMA integrity_check")))[0])
