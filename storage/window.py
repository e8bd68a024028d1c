"""A small in-memory window of recently recalled memories and their neighbours in time.

"LLM in a flash" keeps what was just used in DRAM because the next step is likely to need it
again; here a follow-up question, opening a hit in the UI or reading the turns around it.
The window holds whole Memory records, least recently used out first, within a byte budget.

It is only ever right about the store as it was: any commit by another connection (SQLite's
data_version) or any write by this one (total_changes) empties it, except the recall
bookkeeping that refills it (MemoryStore.remember).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence

from storage.records import Memory

# A record's cost in the budget: its text plus the dataclass and its fields.
_OVERHEAD_BYTES = 400


def cost(memory: Memory) -> int:
    return len(memory.text) + len(memory.source) + _OVERHEAD_BYTES


class RecentWindow:
    def __init__(self, budget_bytes: int) -> None:
        self.budget_bytes = max(0, budget_bytes)
        self.used_bytes = 0
        self.hits = 0  # reads served from the window, for tests and benchmarks
        self._items: OrderedDict[int, Memory] = OrderedDict()
        self._token: tuple[int, int] | None = None

    def __len__(self) -> int:
        return len(self._items)

    def valid_for(self, token: tuple[int, int]) -> None:
        """Empty the window unless the store is as it was when the window was filled."""
        if token != self._token:
            self.clear()
            self._token = token

    def clear(self) -> None:
        self._items.clear()
        self.used_bytes = 0

    def take(self, ids: Sequence[int]) -> dict[int, Memory]:
        found = {}
        for memory_id in ids:
            memory = self._items.get(memory_id)
            if memory is not None:
                self._items.move_to_end(memory_id)
                found[memory_id] = memory
        self.hits += len(found)
        return found

    def keep(self, memories: Iterable[Memory], token: tuple[int, int]) -> None:
        self._token = token
        for memory in memories:
            old = self._items.pop(memory.id, None)
            if old is not None:
                self.used_bytes -= cost(old)
            if cost(memory) > self.budget_bytes:
                continue
            self._items[memory.id] = memory
            self.used_bytes += cost(memory)
        while self.used_bytes > self.budget_bytes and self._items:
            _, evicted = self._items.popitem(last=False)
            self.used_bytes -= cost(evicted)
