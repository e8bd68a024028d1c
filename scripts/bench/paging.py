#!/usr/bin/env python3
"""Flash-aware paging: papertape's layout against a naive one, on synthetic year-long lifelogs.

For each size, one lifelog (a year of notes, chats, transcripts and screen text, in time
order) is stored twice:

- papertape: MemoryStore as the product opens it: tiers as the forgetting curve leaves them
  after a year (agent/memory/retention.py with the default settings; one memory in ten recalled now
  and then), sharp float32 vectors, faded ones as int8 in their rows plus sign bits in the
  16 KiB-page cold file read through mmap, page caches within the default RAM budget;
- naive: one file, 4 KiB pages, rows in insertion order, no mmap, every vector float32 in
  one vec0 table, SQLite's default cache.

Both hold the same texts (faded memories as the one-line gists the tiers leave; rendered
pages are left out of both: no query reads them). Each query does what recall does in
storage: FTS5 BM25 top 60, vector top 60, then the rows of both. Vectors are MiniLM vectors
of template sentences, mixed and jittered so no two memories share one; a query is a
jittered copy of a random memory's vector with two of its words.

Measured per layout in a fresh process: warm p50/p95 over repeated queries; cold queries
(both files dropped from the page cache with posix_fadvise DONTNEED, store reopened) with
bytes read from the device and read syscalls from /proc/self/io; peak resident memory;
vector recall@10 against exact float32 search over every memory.

    python -m scripts.bench.paging [--sizes 10000,100000] [--queries 50] [--cold 15] [--json]
    python -m scripts.bench.paging --sizes 1000000    # the 1M case: about 2 GB of disk, long
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from scripts.bench import common
from scripts.bench.common import percentile
from scripts.bench.lifelogs import DIM, lifelog, make_queries, pool_vectors
from storage import MemoryStore, NewMemory, open_connection, store_files
from storage.search import keyword_search

PROG = common.command_name(__file__)

POOL = 60  # candidates per signal, as recall asks for (recall_candidates)


def _new(log: dict[str, Any], i: int) -> NewMemory:
    kind = {"audio": "audio", "screenshot": "screenshot", "chat": "chat"}.get(
        str(log["kinds"][i]), "text"
    )
    return NewMemory(
        kind=kind,
        source="bench",
        occurred_at=float(log["times"][i]),
        ingested_at=float(log["times"][i]),
        content_hash=f"h{i}",
        text=log["texts"][i],
        strength=float(log["strength"][i]),
        importance=float(log["importance"][i]),
        tier=str(log["tiers"][i]),
    )


def build_papertape(path: Path, log: dict[str, Any]) -> None:
    with MemoryStore.open(path, vector_dim=DIM, embedder="minilm-int8-onnx") as store:
        for start in range(0, len(log["texts"]), 10_000):
            with store.transaction():
                for i in range(start, min(start + 10_000, len(log["texts"]))):
                    store.add(_new(log, i), log["vectors"][i])
        store.vacuum()


NAIVE_SCHEMA = f"""
CREATE TABLE memories (id INTEGER PRIMARY KEY, kind TEXT, source TEXT, occurred_at REAL,
    ingested_at REAL, content_hash TEXT UNIQUE, text TEXT, tier TEXT, importance REAL,
    strength REAL, last_recalled_at REAL, recall_count INTEGER, pinned INTEGER);
CREATE VIRTUAL TABLE memory_fts USING fts5 (text, content='memories', content_rowid='id',
    tokenize='porter unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE memory_vectors USING vec0 (embedding float[{DIM}] distance_metric=cosine);
"""


def build_naive(path: Path, log: dict[str, Any]) -> None:
    conn = open_connection(path, cache_kib=2000)  # SQLite's default cache, about 2 MB
    conn.execute(NAIVE_SCHEMA)
    n = len(log["texts"])
    for start in range(0, n, 10_000):
        with conn:
            for i in range(start, min(start + 10_000, n)):
                m = _new(log, i)
                conn.execute(
                    "INSERT INTO memories VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, 0, 0)",
                    (i + 1, m.kind, m.source, m.occurred_at, m.ingested_at, m.content_hash,
                     m.text, m.tier, m.importance, m.strength),
                )  # fmt: skip
                conn.execute("INSERT INTO memory_fts (rowid, text) VALUES (?, ?)", (i + 1, m.text))
                conn.execute(
                    "INSERT INTO memory_vectors (rowid, embedding) VALUES (?, ?)",
                    (i + 1, log["vectors"][i].tobytes()),
                )
    list(conn.execute("PRAGMA wal_checkpoint(TRUNCATE)"))
    conn.close()


def naive_files(path: Path) -> list[Path]:
    return [Path(str(path) + s) for s in ("", "-wal", "-shm")]


# -- the query worker: one fresh process per layout ---------------------------------------------


def _io() -> tuple[int, int]:
    fields = dict(line.split(": ") for line in Path("/proc/self/io").read_text().splitlines())
    return int(fields["read_bytes"]), int(fields["syscr"])


def _peak_rss_mb() -> float:
    # VmHWM starts afresh at exec; ru_maxrss would carry the parent's peak over from fork.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _drop_cache(files: list[Path]) -> None:
    for file in files:
        if file.exists():
            fd = os.open(file, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


class PapertapeLayout:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.store = MemoryStore.open(path, vector_dim=DIM, embedder="minilm-int8-onnx")

    def files(self) -> list[Path]:
        return store_files(self.path)

    def query(self, vector: np.ndarray, terms: list[str], k: int = POOL) -> list[int]:
        hits = self.store.vector_search(vector, k)
        keywords = self.store.keyword_search(terms, POOL)
        self.store.get_many(list({mid for mid, _ in hits} | {mid for mid, _ in keywords}))
        return [mid for mid, _ in hits]

    def reopen(self) -> None:
        self.store.close()
        self.store = MemoryStore.open(self.path, vector_dim=DIM, embedder="minilm-int8-onnx")


class NaiveLayout:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.conn = open_connection(path, cache_kib=2000)

    def files(self) -> list[Path]:
        return naive_files(self.path)

    def query(self, vector: np.ndarray, terms: list[str], k: int = POOL) -> list[int]:
        hits = [
            int(rowid)
            for rowid, _ in self.conn.execute(
                "SELECT rowid, distance FROM memory_vectors WHERE embedding MATCH ? AND k = ? "
                "ORDER BY distance",
                (vector.astype(np.float32).tobytes(), k),
            )
        ]
        keywords = keyword_search(self.conn, terms, POOL)
        ids = list(set(hits) | {mid for mid, _ in keywords})
        marks = ",".join("?" * len(ids))
        list(self.conn.execute(f"SELECT * FROM memories WHERE id IN ({marks})", ids))
        return hits

    def reopen(self) -> None:
        self.conn.close()
        self.conn = open_connection(self.path, cache_kib=2000)


def worker(layout_name: str, path: Path, queries_file: Path, cold_count: int) -> dict[str, Any]:
    data = np.load(queries_file, allow_pickle=False)
    vectors, terms = data["vectors"], [str(t).split() for t in data["terms"]]
    layout = PapertapeLayout(path) if layout_name == "papertape" else NaiveLayout(path)
    top10 = [layout.query(v, t, 10)[:10] for v, t in zip(vectors, terms, strict=True)]
    for v, t in zip(vectors, terms, strict=True):  # warm up
        layout.query(v, t)
    warm = []
    for v, t in zip(vectors, terms, strict=True):
        started = time.perf_counter()
        layout.query(v, t)
        warm.append(time.perf_counter() - started)
    cold_s, cold_bytes, cold_reads = [], [], []
    for v, t in list(zip(vectors, terms, strict=True))[:cold_count]:
        layout.reopen()
        _drop_cache(layout.files())
        before = _io()
        started = time.perf_counter()
        layout.query(v, t)
        cold_s.append(time.perf_counter() - started)
        after = _io()
        cold_bytes.append(after[0] - before[0])
        cold_reads.append(after[1] - before[1])
    return {
        "top10": top10,
        "warm_p50_ms": percentile(warm, 50) * 1000,
        "warm_p95_ms": percentile(warm, 95) * 1000,
        "cold_p50_ms": percentile(cold_s, 50) * 1000,
        "cold_read_bytes": sum(cold_bytes) / len(cold_bytes) if cold_bytes else 0,
        "cold_read_calls": sum(cold_reads) / len(cold_reads) if cold_reads else 0,
        "peak_rss_mb": _peak_rss_mb(),
    }


# -- the run ----------------------------------------------------------------------------------


def tier_bytes(path: Path) -> dict[str, float]:
    with MemoryStore.open(path, vector_dim=DIM, embedder="minilm-int8-onnx") as store:
        stats = store.stats()
    return {t: b.bytes / b.count for t, b in stats.tiers.items() if b.count}


def run_size(n: int, pool: np.ndarray, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    rng = np.random.default_rng(n)
    log = lifelog(n, pool, rng)
    queries = make_queries(log, args.queries, rng)
    qfile = tmp / f"queries-{n}.npz"
    np.savez(qfile, vectors=queries["vectors"], terms=queries["terms"])
    paths = {"papertape": tmp / f"papertape-{n}.db", "naive": tmp / f"naive-{n}.db"}
    started = time.perf_counter()
    build_papertape(paths["papertape"], log)
    build_naive(paths["naive"], log)
    print(f"  {n}: built both in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    counts = {t: int((log["tiers"] == t).sum()) for t in ("sharp", "hazy", "archive")}
    del log
    os.sync()  # dirty pages are not dropped by DONTNEED
    result: dict[str, Any] = {"memories": n, "tiers": counts}
    for name, path in paths.items():
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                __spec__.name,
                "--worker",
                name,
                str(path),
                str(qfile),
                str(args.cold),
            ],
            check=True,
            cwd=common.ROOT,
            capture_output=True,
            text=True,
        )
        measured = json.loads(out.stdout)
        top10 = measured.pop("top10")
        measured["recall_at_10"] = float(
            np.mean(
                [
                    len(set(t) & set(e.tolist())) / 10
                    for t, e in zip(top10, queries["exact"], strict=True)
                ]
            )
        )
        files = store_files(path) if name == "papertape" else naive_files(path)
        measured["disk_bytes_per_memory"] = sum(f.stat().st_size for f in files if f.exists()) / n
        result[name] = measured
    result["papertape"]["bytes_per_memory_by_tier"] = tier_bytes(paths["papertape"])
    for path in paths.values():
        for f in store_files(path) + naive_files(path):
            f.unlink(missing_ok=True)
    return result


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| memories | layout | disk B/memory | peak RSS MB | warm p50 / p95 ms | cold p50 ms | "
        "cold KB read/query | read calls/query | recall@10 vs exact |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        for name in ("papertape", "naive"):
            m = r[name]
            lines.append(
                f"| {r['memories']:,} | {name} | {m['disk_bytes_per_memory']:.0f} | "
                f"{m['peak_rss_mb']:.0f} | {m['warm_p50_ms']:.1f} / {m['warm_p95_ms']:.1f} | "
                f"{m['cold_p50_ms']:.0f} | {m['cold_read_bytes'] / 1024:.0f} | "
                f"{m['cold_read_calls']:.0f} | {m['recall_at_10']:.3f} |"
            )
    lines.append("")
    for r in results:
        p, n = r["papertape"], r["naive"]
        by_tier = ", ".join(f"{t} {b:.0f} B" for t, b in p["bytes_per_memory_by_tier"].items())
        lines.append(
            f"- {r['memories']:,}: tiers {r['tiers']}; papertape stored bytes per memory: "
            f"{by_tier}; cold bytes read per query papertape/naive "
            f"{p['cold_read_bytes'] / max(n['cold_read_bytes'], 1):.3f}; warm p95 ratio "
            f"{p['warm_p95_ms'] / n['warm_p95_ms']:.2f}x; recall@10 {p['recall_at_10']:.3f}"
        )
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        name, path, qfile, cold = sys.argv[2:6]
        print(json.dumps(worker(name, Path(path), Path(qfile), int(cold))))
        return
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated memory counts")
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--cold", type=int, default=15, help="cold-cache queries per layout")
    parser.add_argument("--dir", type=Path, default=None, help="where to build (default: temp)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    try:
        sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        common.refuse(
            PROG,
            f"--sizes takes numbers like 10000,100000, not {args.sizes!r}.",
        )
    if not sizes or min(sizes) < 100:
        common.refuse(PROG, "each size must be at least 100 memories.")
    rng = np.random.default_rng(0)
    pool = pool_vectors(rng)
    results = []
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        for n in sizes:
            results.append(run_size(n, pool, args, Path(tmp)))
    if args.json:
        print(json.dumps(results, indent=2))
        return
    command = "python -m scripts.bench.paging " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    print(common.header(command))
    print()
    print(table(results))


if __name__ == "__main__":
    main()
