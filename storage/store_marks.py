"""Marks on memories (read for facts, ...), the store's own small values, and the id high-water
mark that keeps ids from being reused.
"""

from __future__ import annotations

from collections.abc import Iterable

from storage import layout
from storage.store_base import StorePart


class MarksAndMeta(StorePart):
    def mark(self, ids: Iterable[int], mark: str) -> None:
        """Record that a step (named by `mark`) has dealt with these memories."""
        with self.transaction():
            self.conn.executemany(
                "INSERT OR IGNORE INTO memory_marks (memory_id, mark) VALUES (?, ?)",
                [(memory_id, mark) for memory_id in ids],
            )

    def unmark(self, ids: Iterable[int], mark: str) -> None:
        """Undo `mark` on these memories, so the step deals with them again."""
        with self.transaction():
            self.conn.executemany(
                "DELETE FROM memory_marks WHERE memory_id = ? AND mark = ?",
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
        with self.transaction():
            self.conn.execute(
                "INSERT OR REPLACE INTO store_meta (key, value) VALUES (?, ?)", (key, value)
            )
