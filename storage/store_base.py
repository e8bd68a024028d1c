"""What the parts of MemoryStore (storage/store_*.py) share: its connection and the few
helpers of its own they call (declarations: MemoryStore supplies them), and the chunking of a
query over many ids."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING

import apsw

from storage.budget import RamBudget
from storage.readahead import RandomAccess
from storage.records import Memory
from storage.window import RecentWindow


class StorePart:
    conn: apsw.Connection
    path: Path | None
    vector_dim: int
    budget: RamBudget
    window: RecentWindow
    _cold_access: RandomAccess

    if TYPE_CHECKING:

        def transaction(self) -> AbstractContextManager[apsw.Connection]: ...

        def _changed_cold(self, memory_id: int) -> None: ...

        def _home(self, memory_id: int) -> str: ...

        def _update(self, assignments: str, params: Sequence[object], memory_id: int) -> bool: ...

        def _rows(self, ids: Sequence[int]) -> dict[int, Memory]: ...

        def _window_token(self) -> tuple[int, int]: ...


def id_chunks(ids: Sequence[int]) -> Iterator[tuple[list[int], str]]:
    """The unique ids in chunks within SQLite's bound on parameters, each with its "?,?,..."."""
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), 500):
        chunk = unique[start : start + 500]
        yield chunk, ",".join("?" * len(chunk))
