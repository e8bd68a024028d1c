"""What the parts of MemoryStore (storage/store_*.py) share: its connection and the few
helpers of its own they call. Declarations only; MemoryStore supplies them."""

from __future__ import annotations

from collections.abc import Sequence
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
