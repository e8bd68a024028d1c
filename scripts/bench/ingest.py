#!/usr/bin/env python3
"""Ingest throughput end to end against the embedder alone, and recall latency at scale.

1. Batched: N texts through papertape's batched ingest (hash, dedupe, split, embed, one
   transaction per memory with its vector and index entry) against the same N texts through
   the embedder alone. Target: end to end at least 0.8x the embedder alone.
2. One at a time: M notes, each its own `note` call, against M single-text embeds.
3. Recall latency (fused, strengthening on, as `papertape recall` runs it) at 10k and 100k
   memories, over LoCoMo questions. The large stores reuse the real embeddings of the LoCoMo
   turns with a little noise (the data has only ~4,100 distinct texts); the search work per
   query is the same as for distinct texts.

    python -m scripts.bench.ingest [--data ../shared/data/locomo/locomo7.json] [-n 2000]
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from agent.ingest.notes import NoteInput
from agent.service import Papertape
from agent.settings import load_settings
from models import load_embedder
from scripts.bench import common
from scripts.bench.locomo_data import load

PROG = common.command_name(__file__)

T0 = 1_700_000_000.0


def corpus(path: Path) -> tuple[list[str], list[str]]:
    if path.is_file():
        conversations = load(path)
        texts = list(dict.fromkeys(t.text for c in conversations for t in c.turns))
        questions = [q.question for c in conversations for q in c.questions]
        return texts, questions
    rng = np.random.default_rng(0)
    words = [
        "coffee",
        "meeting",
        "garden",
        "invoice",
        "train",
        "sister",
        "birthday",
        "paint",
        "novel",
        "rent",
    ]
    texts = [" ".join(rng.choice(words, 12)) + f" {i}" for i in range(5000)]
    return texts, [" ".join(rng.choice(words, 6)) for _ in range(200)]


def throughput(texts: list[str], single: int) -> dict[str, float]:
    embedder = load_embedder("minilm")
    embedder.embed(texts[:64])  # warm the runtime once for both sides
    out: dict[str, float] = {}
    start = time.perf_counter()
    embedder.embed(texts)
    out["embed_batched"] = len(texts) / (time.perf_counter() - start)
    with (
        tempfile.TemporaryDirectory() as tmp,
        Papertape(load_settings(Path(tmp), env={}), embedder=embedder) as app,
    ):
        app.stats()  # open the store outside the timing
        start = time.perf_counter()
        results = app.note_many([NoteInput(t, T0) for t in texts], now=T0)
        out["ingest_batched"] = len(texts) / (time.perf_counter() - start)
        assert sum(r.status == "stored" for r in results) == len(texts)
    few = texts[:single]
    start = time.perf_counter()
    for text in few:
        embedder.embed([text])
    out["embed_single"] = len(few) / (time.perf_counter() - start)
    with (
        tempfile.TemporaryDirectory() as tmp,
        Papertape(load_settings(Path(tmp), env={}), embedder=embedder) as app,
    ):
        app.stats()
        start = time.perf_counter()
        for text in few:
            app.note(text, now=T0)
        out["ingest_single"] = len(few) / (time.perf_counter() - start)
    return out


def recall_latency(texts: list[str], questions: list[str], sizes: list[int]) -> dict[int, dict]:
    embedder = load_embedder("minilm")
    vectors = embedder.embed(texts)
    report = {}
    for size in sizes:
        with (
            tempfile.TemporaryDirectory() as tmp,
            Papertape(load_settings(Path(tmp), env={}), embedder=embedder) as app,
        ):
            store = app.store
            start = time.perf_counter()
            common.fill_with_copies(store, texts, vectors, size, T0)
            build = time.perf_counter() - start
            store.checkpoint()  # measure the file, not a WAL full of the bulk load
            timings = []
            for q in questions[:300]:
                start = time.perf_counter()
                app.recall(q, now=T0 + size + 3600)
                timings.append(1000 * (time.perf_counter() - start))
            report[size] = {
                "p50_ms": common.percentile(timings, 50),
                "p95_ms": common.percentile(timings, 95),
                "queries": len(timings),
                "build_s": build,
                "file_mb": app.stats().file_bytes / 1e6,
            }
    return report


def main() -> None:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    common.add_data_option(parser)
    parser.add_argument("-n", type=int, default=2000, help="texts for the batched comparison")
    parser.add_argument("--single", type=int, default=300, help="notes for the one-at-a-time one")
    parser.add_argument("--sizes", default="10000,100000", help="store sizes for recall latency")
    args = parser.parse_args()
    common.data_file(args.data, PROG)
    texts, questions = corpus(args.data)
    print(common.header("python -m scripts.bench.ingest " + shlex.join(sys.argv[1:])))
    rates = throughput(texts[: args.n], args.single)
    print(f"\nbatched, {min(args.n, len(texts))} texts:")
    print(f"  embedder alone   {rates['embed_batched']:8.1f} texts/s")
    print(
        f"  papertape ingest {rates['ingest_batched']:8.1f} texts/s   "
        f"ratio {rates['ingest_batched'] / rates['embed_batched']:.2f}x (target >= 0.8x)"
    )
    print(f"one at a time, {args.single} notes:")
    print(f"  embedder alone   {rates['embed_single']:8.1f} texts/s")
    print(
        f"  papertape note   {rates['ingest_single']:8.1f} texts/s   "
        f"ratio {rates['ingest_single'] / rates['embed_single']:.2f}x"
    )
    sizes = [int(s) for s in args.sizes.split(",") if s]
    latency = recall_latency(texts, questions, sizes)
    print("\nrecall (fused, strengthening on), per query including embedding the query:")
    for size, row in latency.items():
        print(
            f"  {size:>7} memories: p50 {row['p50_ms']:6.1f} ms  p95 {row['p95_ms']:6.1f} ms  "
            f"({row['queries']} queries; store built in {row['build_s']:.0f} s, "
            f"{row['file_mb']:.0f} MB)"
        )


if __name__ == "__main__":
    main()
