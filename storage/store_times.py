"""The time a memory's relative words name, kept beside its text (storage/records.py
TimeWords): written at consolidation, read when a prompt shows the memory."""

from __future__ import annotations

from collections.abc import Sequence

from storage.records import TimeWords
from storage.store_base import StorePart, id_chunks


class Times(StorePart):
    def set_time(self, memory_id: int, time: TimeWords) -> None:
        with self.transaction():
            self.conn.execute(
                "INSERT OR REPLACE INTO memory_times (memory_id, words, unit, offset) "
                "VALUES (?, ?, ?, ?)",
                (memory_id, time.words, time.unit, time.offset),
            )

    def drop_time(self, memory_id: int) -> None:
        with self.transaction():
            self.conn.execute("DELETE FROM memory_times WHERE memory_id = ?", (memory_id,))

    def _drop_time_unless_in(self, memory_id: int, text: str) -> None:
        """The memory's text is now `text` (a gist, an edit): time words it no longer holds
        go, so no copy of words that left outlives them."""
        time = self.times_of([memory_id]).get(memory_id)
        if time is not None and time.words.casefold() not in " ".join(text.split()).casefold():
            self.drop_time(memory_id)

    def times_of(self, ids: Sequence[int]) -> dict[int, TimeWords]:
        """The time words of those of `ids` that have them."""
        found: dict[int, TimeWords] = {}
        for chunk, marks in id_chunks(ids):
            rows = self.conn.execute(
                "SELECT memory_id, words, unit, offset FROM memory_times "
                f"WHERE memory_id IN ({marks})",
                chunk,
            )
            for memory_id, words, unit, offset in rows:
                found[int(memory_id)] = TimeWords(str(words), str(unit), int(offset))
        return found
