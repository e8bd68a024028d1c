"""Links between memories: a summary and its members, a fact and its sources, an update and what it
replaced.
"""

from __future__ import annotations

from collections.abc import Sequence

from storage.records import (
    RELATIONS,
    Link,
)
from storage.store_base import StorePart


class Links(StorePart):
    def link(self, from_id: int, to_id: int, relation: str, position: int | None = None) -> None:
        if relation not in RELATIONS:
            raise ValueError(f"unknown relation {relation!r}; valid: {', '.join(RELATIONS)}")
        with self.transaction():
            for memory_id in (from_id, to_id):
                self._home(memory_id)  # links join memories that exist
            self.conn.execute(
                "INSERT OR IGNORE INTO memory_links (from_id, to_id, relation, position) "
                "VALUES (?, ?, ?, ?)",
                (from_id, to_id, relation, position),
            )

    def unlink_into(self, memory_id: int, relation: str) -> list[int]:
        """Remove the `relation` links that point at `memory_id`; the ids they came from."""
        with self.transaction():
            rows = self.conn.execute(
                "DELETE FROM memory_links WHERE to_id = ? AND relation = ? RETURNING from_id",
                (memory_id, relation),
            )
            return sorted(int(from_id) for (from_id,) in rows)

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
