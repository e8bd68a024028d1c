"""Ask the kernel not to read around page faults in the cold file's mmap.

A page fault in a mapped file makes Linux read a window around it (128 KiB or more), which
suits a sequential scan but costs 60-80 KiB per random row lookup (scripts/bench/lookups.py),
and a re-rank is a few hundred random lookups. SQLite makes the mapping itself and gives no
hook, so its address is found in /proc/self/maps and marked MADV_RANDOM there.

When the file grows SQLite extends its mapping with mremap, which keeps the mark; it maps
afresh where it was built without mremap, or when its mmap limit changes. So the read paths
call `refresh` before and after reading: a stat of the file, and a look at /proc/self/maps
(about a millisecond) only while no mapping has been marked or the file's size has changed.
Where /proc or madvise is missing (macOS), nothing is done: reads stay correct, only larger.
"""

from __future__ import annotations

import ctypes
import mmap
import os
from pathlib import Path

_MAPS = Path("/proc/self/maps")
_MADV_RANDOM = getattr(mmap, "MADV_RANDOM", None)


def _madvise() -> ctypes._CFuncPtr | None:  # type: ignore[name-defined]
    try:
        function = ctypes.CDLL(None, use_errno=True).madvise
    except (OSError, AttributeError):
        return None
    function.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
    function.restype = ctypes.c_int
    return function


class RandomAccess:
    """Marks every mapping of one file in this process as randomly accessed."""

    def __init__(self, path: str) -> None:
        self.path = os.path.realpath(path) if path != ":memory:" else None
        self._madvise = _madvise() if _MADV_RANDOM is not None and _MAPS.exists() else None
        self._marked: set[tuple[int, int]] = set()
        self._size = -1  # the file's size when its mappings were last all marked

    def refresh(self) -> None:
        """Mark new mappings, looking only when the file may have been mapped anew."""
        if self.path is None or self._madvise is None:
            return
        try:
            size = os.stat(self.path).st_size
        except OSError:
            return
        if size != self._size:
            self.advise()
            if self._marked:
                self._size = size

    def advise(self) -> int:
        """Mark the file's mappings not marked yet; returns how many were marked now."""
        if self.path is None or self._madvise is None:
            return 0
        marked = 0
        for start, end in self._mappings():
            if (start, end) in self._marked:
                continue
            # A failure only leaves the kernel's default read-around in place.
            if self._madvise(start, end - start, _MADV_RANDOM) == 0:
                self._marked.add((start, end))
                marked += 1
        return marked

    def _mappings(self) -> list[tuple[int, int]]:
        found = []
        with _MAPS.open() as maps:
            for line in maps:
                fields = line.split(maxsplit=5)
                if len(fields) == 6 and fields[5].rstrip("\n") == self.path:
                    start, end = fields[0].split("-")
                    found.append((int(start, 16), int(end, 16)))
        return found
