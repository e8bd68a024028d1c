"""Bytes read from the device per random row lookup, by table layout, page size and mmap.

A recall re-ranks a few hundred faded rows found by id (docs/BENCHMARKS.md, issue 8), and
each layout below is asked for the same random ids with the page cache dropped before every
batch. "mmap, random" is SQLite's mmap marked MADV_RANDOM, as papertape marks its cold file
(storage/readahead.py). The baseline is a rowid table with 4 KiB pages read without mmap;
every other layout is a ratio to it.

    .venv/bin/python -m scripts.bench.lookups [--rows 95000] [--lookups 300] [--dir DIR]
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import tempfile
from pathlib import Path

import apsw
import numpy as np

from scripts.bench import common
from storage.readahead import RandomAccess

PROG = common.command_name(__file__)

VECTOR_BYTES = 384  # an int8 MiniLM vector, as faded rows keep it
GIST = "x" * 60  # a faded row's one-line gist
MMAP_BYTES = 16 << 20  # what the default RAM budget maps for the cold file


def _read_bytes() -> int:
    fields = dict(line.split(": ") for line in Path("/proc/self/io").read_text().splitlines())
    return int(fields["read_bytes"])


def _drop_cache(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def build(path: Path, page_size: int, clustered: bool, rows: int) -> None:
    rng = np.random.default_rng(0)
    conn = apsw.Connection(str(path))
    conn.execute(f"PRAGMA page_size={page_size}")
    if clustered:  # by tier and time, found by id through a second index
        conn.execute(
            "CREATE TABLE memories (id INTEGER NOT NULL, occurred_at REAL, tier TEXT, text TEXT, "
            "vector BLOB, PRIMARY KEY (tier, occurred_at, id)) WITHOUT ROWID"
        )
        conn.execute("CREATE UNIQUE INDEX memories_id ON memories (id)")
    else:
        conn.execute(
            "CREATE TABLE memories (id INTEGER PRIMARY KEY, occurred_at REAL, tier TEXT, "
            "text TEXT, vector BLOB)"
        )
    with conn:
        for i in range(rows):
            conn.execute(
                "INSERT INTO memories VALUES (?, ?, 'archive', ?, ?)",
                (i + 1, float(rng.integers(0, 10**6)), GIST, rng.bytes(VECTOR_BYTES)),
            )
    conn.execute("VACUUM")
    conn.close()
    os.sync()  # dirty pages are not dropped by DONTNEED


READS = ("pread", "mmap", "mmap, random")


def bytes_per_lookup(path: Path, read: str, batches: list[list[int]]) -> float:
    total = 0
    for ids in batches:
        _drop_cache(path)
        conn = apsw.Connection(str(path))
        conn.execute(f"PRAGMA mmap_size={0 if read == 'pread' else MMAP_BYTES}")
        # One lookup outside the count, the same for every layout: it makes SQLite map the
        # file, so that the mapping can be marked before the batch.
        list(conn.execute("SELECT id FROM memories WHERE id = ?", (ids[0],)))
        if read == "mmap, random":
            RandomAccess(str(path)).advise()
        marks = ",".join("?" * len(ids))
        before = _read_bytes()
        list(conn.execute(f"SELECT id, vector FROM memories WHERE id IN ({marks})", ids))
        total += _read_bytes() - before
        conn.close()
    return total / sum(len(ids) for ids in batches)


def main() -> None:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=95_000, help="faded rows in the file")
    parser.add_argument("--lookups", type=int, default=300, help="ids per batch (a re-rank)")
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--dir", type=Path, default=None, help="where to build (default: temp)")
    args = parser.parse_args()
    if args.rows < args.lookups or args.lookups < 1:
        common.refuse(
            PROG,
            "--rows must be at least --lookups, and --lookups at least 1.",
        )
    rng = np.random.default_rng(1)
    batches = [
        [int(i) for i in rng.choice(args.rows, args.lookups, replace=False) + 1]
        for _ in range(args.batches)
    ]
    results = []
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        for page_size in (4096, 16384):
            for clustered in (False, True):
                path = Path(tmp) / f"{page_size}-{clustered}.db"
                build(path, page_size, clustered, args.rows)
                for read in READS:
                    per = bytes_per_lookup(path, read, batches)
                    results.append((page_size, clustered, read, per, path.stat().st_size))
    base = results[0][3]
    command = "python -m scripts.bench.lookups " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    print(common.header(command))
    print(f"\n{args.rows:,} rows; {args.batches} batches of {args.lookups} random ids\n")
    print("| pages | table | read | KiB per lookup | x baseline | file MB |")
    print("|---|---|---|---|---|---|")
    for page_size, clustered, read, per, size in results:
        table = "WITHOUT ROWID by (tier, time), id index" if clustered else "rowid = id"
        print(
            f"| {page_size // 1024} KiB | {table} | {read} | "
            f"{per / 1024:.1f} | {per / base:.2f} | {size / 1e6:.0f} |"
        )


if __name__ == "__main__":
    main()
