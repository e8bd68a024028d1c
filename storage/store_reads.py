"""Reading memories back: by id, by content hash, newest first, by source, by tier, and by
keyword."""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence

from storage import layout, search
from storage.layout import SCHEMAS
from storage.records import (
    Memory,
)
from storage.store_base import StorePart


def memory_from_row(row: Sequence[object]) -> Memory:
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


class Reads(StorePart):
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
                memory_from_row,
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
                memory_from_row(row)
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

    def adjacent(
        self, memory_ids: Sequence[int], kinds: Sequence[str], within_s: float
    ) -> dict[int, tuple[int | None, int | None]]:
        """For each of these memories, the id of the last memory of one of `kinds` from its
        source that came before it and of the first that came after it, each when it came
        within `within_s` seconds (the same episode: the line a reply answers, and the reply).
        One statement for them all: recall asks this for every candidate of a query."""
        wanted = list(dict.fromkeys(memory_ids))
        found: dict[int, tuple[int | None, int | None]] = {}
        for start in range(0, len(wanted), 500):  # under SQLite's bound-parameter limit
            found |= self._adjacent(wanted[start : start + 500], kinds, within_s)
        return found

    def _adjacent(
        self, wanted: list[int], kinds: Sequence[str], within_s: float
    ) -> dict[int, tuple[int | None, int | None]]:
        ids = ", ".join("?" * len(wanted))
        of_kind = ", ".join("?" * len(kinds))
        given = " UNION ALL ".join(
            f"SELECT id, source, occurred_at FROM {schema}.memories WHERE id IN ({ids})"
            for schema in SCHEMAS
        )

        def nearest(before: bool) -> str:
            side, bound, order = ("<", ">=", "DESC") if before else (">", "<=", "")
            sign = "-" if before else "+"
            # Each file's nearest is found on its own (its time index, stopping at the first),
            # then the nearer of the two.
            arms = " UNION ALL ".join(
                f"SELECT * FROM (SELECT n.id, n.occurred_at FROM {schema}.memories n "
                f"WHERE n.source = g.source AND n.kind IN ({of_kind}) "
                f"AND (n.occurred_at, n.id) {side} (g.occurred_at, g.id) "
                f"AND n.occurred_at {bound} g.occurred_at {sign} ? "
                f"ORDER BY n.occurred_at {order}, n.id {order} LIMIT 1)"
                for schema in SCHEMAS
            )
            return f"(SELECT id FROM ({arms}) ORDER BY occurred_at {order}, id {order} LIMIT 1)"

        arm_params = [*kinds, within_s] * len(SCHEMAS)
        rows = self.conn.execute(
            f"SELECT g.id, {nearest(True)}, {nearest(False)} FROM ({given}) g",
            [*arm_params, *arm_params, *wanted * len(SCHEMAS)],
        )
        return {int(mid): (before, after) for mid, before, after in rows}

    def following(self, memory: Memory, limit: int, within_s: float) -> list[Memory]:
        """Up to `limit` memories of `memory`'s source that came after it, in time order, each
        within `within_s` seconds of the one before (the same episode: a conversation's next
        turns)."""
        per_file = [
            [
                memory_from_row(row)
                for row in self.conn.execute(
                    f"SELECT {layout.SELECT} FROM {schema}.memories WHERE source = ? "
                    "AND (occurred_at, id) > (?, ?) AND occurred_at <= ? "
                    "ORDER BY occurred_at, id LIMIT ?",
                    (
                        memory.source,
                        memory.occurred_at,
                        memory.id,
                        memory.occurred_at + limit * within_s,
                        limit,
                    ),
                )
            ]
            for schema in SCHEMAS
        ]
        found: list[Memory] = []
        last = memory.occurred_at
        for later in heapq.merge(*per_file, key=lambda m: (m.occurred_at, m.id)):
            if len(found) == limit or later.occurred_at - last > within_s:
                break
            found.append(later)
            last = later.occurred_at
        return found

    def of_source(self, source: str, kind: str) -> list[Memory]:
        """The memories of one kind from one source (a conversation's turns), in time order."""
        rows = [
            row
            for schema in SCHEMAS
            for row in self.conn.execute(
                f"SELECT {layout.SELECT} FROM {schema}.memories WHERE source = ? AND kind = ?",
                (source, kind),
            )
        ]
        return sorted(map(memory_from_row, rows), key=lambda m: (m.occurred_at, m.id))

    def latest_source(self, kind: str) -> str | None:
        """The source of the newest memory of this kind (the last conversation), if any."""
        found = [
            (float(when), int(id_), str(source))
            for schema in SCHEMAS
            for when, id_, source in self.conn.execute(
                f"SELECT occurred_at, id, source FROM {schema}.memories WHERE kind = ? "
                "ORDER BY occurred_at DESC, id DESC LIMIT 1",
                (kind,),
            )
        ]
        return max(found)[2] if found else None

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
        yield from sorted(map(memory_from_row, rows), key=lambda m: m.id)

    def count(self) -> int:
        return sum(
            int(next(iter(self.conn.execute(f"SELECT count(*) FROM {schema}.memories")))[0])
            for schema in SCHEMAS
        )

    def keyword_search(self, terms: list[str], limit: int) -> list[tuple[int, float]]:
        return search.keyword_search(self.conn, terms, limit)
