"""Reads through the window of recent recalls: a recalled memory's neighbours in time come in with
it.
"""

from __future__ import annotations

from collections.abc import Sequence

from storage import layout
from storage.layout import MAIN
from storage.records import (
    Memory,
)
from storage.store_base import StorePart
from storage.store_reads import memory_from_row

# Rows either side of a recalled memory, in time, that come into the window with it: the
# tables are clustered by time, so they lie on the same or the next page.
NEIGHBOURS = 2


class RecentReads(StorePart):
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
                found.update((m.id, m) for m in map(memory_from_row, rows))
        # The recalled ones last, so they are the last to be evicted.
        order = [m for mid, m in found.items() if mid not in recalled]
        order += [recalled[mid] for mid in ids if mid in recalled]
        self.window.keep(order, token)

    def _window_token(self) -> tuple[int, int]:
        # Every change to the cold file also writes the main file's journal, so the main
        # file's data_version sees other connections' writes to either file.
        version = int(next(iter(self.conn.execute("PRAGMA data_version")))[0])
        return version, self.conn.total_changes()
