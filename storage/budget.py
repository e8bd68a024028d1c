"""How one store spends its RAM budget: page caches, the cold file's mmap, the recent window.

The shares follow what a query touches: the main file's cache serves the hot tier's rows,
FTS5 and sharp vectors on every query; the cold index is scanned through mmap (the kernel's
page cache, mapped rather than copied); a small window keeps whole records just recalled.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_RAM_BUDGET_KIB = 64 * 1024


@dataclass(frozen=True)
class RamBudget:
    total_kib: int = DEFAULT_RAM_BUDGET_KIB

    def __post_init__(self) -> None:
        if self.total_kib < 1024:
            raise ValueError(f"a RAM budget of {self.total_kib} KiB is below the 1 MiB minimum")

    @property
    def main_cache_kib(self) -> int:
        return self.total_kib // 2

    @property
    def cold_cache_kib(self) -> int:
        return self.total_kib // 10

    @property
    def cold_mmap_bytes(self) -> int:
        return self.total_kib // 4 * 1024

    @property
    def window_bytes(self) -> int:
        return self.total_kib * 15 // 100 * 1024
