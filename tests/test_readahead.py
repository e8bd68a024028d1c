"""The cold file's mmap is marked for random access, as the kernel itself reports it.

/proc/self/smaps lists each mapping's flags; `rr` is the one MADV_RANDOM sets, so these tests
read the kernel's own record rather than trusting the call's return value.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import apsw
import numpy as np
import pytest

from storage import MemoryStore, NewMemory, RamBudget
from storage.readahead import RandomAccess

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads /proc/self/smaps (Linux only)"
)
DIM = 384


def mappings(path: Path) -> dict[str, set[str]]:
    """Every mapping of `path` in this process: its address range and its VmFlags."""
    target = os.path.realpath(path)
    found: dict[str, set[str]] = {}
    current = ("", "")
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split(maxsplit=5)
        if len(head) >= 5 and "-" in head[0] and ":" in head[3]:  # a mapping's header line
            current = (head[0], head[5] if len(head) == 6 else "")
        elif line.startswith("VmFlags:") and current[1] == target:
            found[current[0]] = set(line.split()[1:])
    return found


def mapping_flags(path: Path) -> list[set[str]]:
    return list(mappings(path).values())


def faded(i: int) -> NewMemory:
    return NewMemory(
        kind="text",
        source="t",
        occurred_at=float(i),
        ingested_at=float(i),
        content_hash=f"h{i}",
        text=f"archived note number {i} " + "words " * 40,
        strength=1.0,
        tier="archive",
    )


def add_faded(store: MemoryStore, start: int, count: int) -> None:
    rng = np.random.default_rng(start)
    with store.transaction():
        for i in range(start, start + count):
            vector = rng.standard_normal(DIM).astype(np.float32)
            store.add(faded(i), vector / np.linalg.norm(vector))


def test_a_plain_sqlite_mmap_is_not_marked(tmp_path: Path) -> None:
    # The control: without the advice SQLite's mapping has no random-read flag.
    path = tmp_path / "plain.db"
    conn = apsw.Connection(str(path))
    conn.execute("CREATE TABLE t (x)")
    conn.execute("INSERT INTO t VALUES (1)")
    conn.execute("PRAGMA mmap_size=1048576")
    list(conn.execute("SELECT x FROM t"))
    flags = mapping_flags(path)
    assert flags, "SQLite did not map the file"
    assert all("rr" not in f for f in flags)
    assert RandomAccess(str(path)).advise() == len(flags)
    assert all("rr" in f for f in mapping_flags(path))
    conn.close()


def test_the_cold_mapping_is_marked_at_open(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    with MemoryStore.open(path, vector_dim=DIM, embedder="fake") as store:
        add_faded(store, 0, 50)
    with MemoryStore.open(path, vector_dim=DIM, embedder="fake") as store:
        found = mappings(tmp_path / "store-cold.db")
        assert found
        assert all("rr" in f for f in found.values())


def test_a_grown_mapping_and_a_fresh_one_are_marked(tmp_path: Path) -> None:
    cold_file = tmp_path / "store-cold.db"
    query = np.ones(DIM, dtype=np.float32) / np.sqrt(DIM)
    with MemoryStore.open(
        tmp_path / "store.db", vector_dim=DIM, embedder="fake", budget=RamBudget(16 * 1024)
    ) as store:
        first = mappings(cold_file)
        add_faded(store, 0, 400)
        store.checkpoint()  # the rows reach the file, which outgrows its mapping
        store.get_many(list(range(1, 400)))
        grown = mappings(cold_file)
        assert set(grown) != set(first), "SQLite did not map the grown file anew"
        assert all("rr" in f for f in grown.values())
        # Mapped afresh, as a SQLite built without mremap does at every growth (here by
        # changing its mmap limit): the new mapping has no mark until the store's next read
        # after the file has grown.
        store.conn.execute("PRAGMA cold.mmap_size=0")
        assert not mappings(cold_file)
        store.conn.execute(f"PRAGMA cold.mmap_size={store.budget.cold_mmap_bytes}")
        add_faded(store, 400, 200)
        store.checkpoint()
        store.vector_search(query, 5)
        fresh = mappings(cold_file)
        assert fresh
        assert all("rr" in f for f in fresh.values())


def test_a_store_in_memory_has_nothing_to_mark() -> None:
    assert RandomAccess(":memory:").advise() == 0
