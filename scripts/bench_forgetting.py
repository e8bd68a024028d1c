#!/usr/bin/env python3
"""Forgetting policies on LoCoMo: bytes kept against evidence recall@10, in one run.

Each conversation is laid on its real session dates: every turn a memory, each session stored
as it ends. The store is then aged to one month after the last session and every question
asks recall for 10 memories. A question's evidence turn counts as found when its memory, or
a summary linked to it, is among the 10 (the issue's measure; generous to summaries, which
cover a whole session whether or not their text keeps the fact). A stricter column counts
only the turn's own memory, whatever its tier. Policies, each on its own store:

- keep: keep everything, verbatim, float32 vectors;
- drop-oldest: keep-everything, then the oldest memories deleted until under the budget;
- summarise: every session replaced by one summary (the same summariser papertape uses);
- papertape: consolidation after each session and at the end (decay, tiers, summaries,
  merges), with the byte budget set to the same budget.

The budget is 25 % of keep-everything's bytes (--budget to change). Bytes are papertape's own
count: UTF-8 text, vector bytes and page/media blobs.

    scripts/bench_forgetting.py --data ../shared/data/locomo/locomo7.json [--limit N]
        [--summarizer extractive|model] [--model NAME] [--json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shlex
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import benchlib
import numpy as np
from locomo import CATEGORIES, Conversation, load, sessions_of, store_session

from agent.lifecycle import ConsolidationReport, Consolidator
from agent.service import Papertape
from agent.settings import load_settings
from agent.summarize import ExtractiveSummarizer, ModelSummarizer, Summarizer
from models import Embedder, load_embedder
from storage import NewMemory

DAY = 86400.0
K = 10
POLICIES = ("keep", "drop-oldest", "summarise", "papertape")


class CachedEmbedder:
    """Each text embedded once per run, whichever policy asks."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.cache: dict[str, np.ndarray] = {}

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self.cache))
        if missing:
            for text, vector in zip(missing, self.inner.embed(missing), strict=True):
                self.cache[text] = vector
        return np.stack([self.cache[t] for t in texts]) if texts else np.zeros((0, self.dim))


class CachedSummarizer:
    """The same episode summarised once, for both policies that summarise."""

    def __init__(self, inner: Summarizer) -> None:
        self.inner = inner
        self.name = inner.name
        self.cache: dict[tuple[str, ...], str] = {}
        self.seconds = 0.0

    def summarize(self, texts: Sequence[str]) -> str:
        key = tuple(texts)
        if key not in self.cache:
            start = time.perf_counter()
            self.cache[key] = self.inner.summarize(texts)
            self.seconds += time.perf_counter() - start
        return self.cache[key]


def source_of(conv: Conversation, session: int) -> str:
    return f"locomo:{conv.sample_id}:s{session}"


def new_app(tmp: str, name: str, embedder: Embedder, **overrides: object) -> Papertape:
    budget = overrides.pop("byte_budget_mb", None)
    settings = load_settings(Path(tmp) / name, overrides=overrides, env={})
    if budget is not None:  # a share of one conversation: below what a person may set
        settings = replace(settings, byte_budget_mb=budget)
    return Papertape(settings, embedder=embedder)


def covered(app: Papertape, memory_id: int, dia_of: dict[int, set[str]]) -> set[str]:
    """The turns a retrieved memory stands for: its own, and its members' for a summary."""
    found = set(dia_of.get(memory_id, ()))
    for link in app.store.links_from(memory_id):
        if link.relation == "summarizes":
            found |= dia_of.get(link.to_id, set())
    return found


def score(app: Papertape, conv: Conversation, now: float, dia_of: dict[int, set[str]]) -> dict:
    sums: dict[int, float] = defaultdict(float)
    counts: dict[int, int] = defaultdict(int)
    own = 0.0  # stricter: found only through the turn's own memory, not a summary
    for q in conv.questions:
        wanted = set(q.evidence)
        if not wanted:
            continue
        hits = app.recall(q.question, now=now, k=K, strengthen=False)
        found: set[str] = set()
        itself: set[str] = set()
        for hit in hits:
            found |= covered(app, hit.memory.id, dia_of)
            if hit.memory.kind != "summary":
                itself |= dia_of.get(hit.memory.id, set())
        sums[q.category] += len(wanted & found) / len(wanted)
        own += len(wanted & itself) / len(wanted)
        counts[q.category] += 1
    return {"sums": dict(sums), "counts": dict(counts), "own": own, "bytes": app.stats().bytes}


def drop_oldest(app: Papertape, budget: int) -> None:
    total = app.stats().bytes
    doomed = []
    for memory in sorted(app.store.iter_memories(), key=lambda m: (m.occurred_at, m.id)):
        if total <= budget:
            break
        total -= app.store.memory_bytes(memory)
        doomed.append(memory.id)
    app.store.delete(doomed)


def run_conversation(
    conv: Conversation,
    embedder: CachedEmbedder,
    summarizer: CachedSummarizer,
    budget_share: float,
    tmp: str,
) -> dict:
    end = conv.turns[-1].occurred_at + 30 * DAY
    results: dict[str, dict] = {}
    # keep everything, then drop the oldest from the same store
    with new_app(tmp, f"{conv.sample_id}-keep", embedder) as app:
        ids: dict[str, int] = {}
        for session in sessions_of(conv):
            store_session(app, conv, session, ids)
        dia_of = {mid: {dia} for dia, mid in ids.items()}
        results["keep"] = score(app, conv, end, dia_of)
        budget = int(results["keep"]["bytes"] * budget_share)
        drop_oldest(app, budget)
        results["drop-oldest"] = score(app, conv, end, dia_of)
    # one summary per session, nothing else
    with new_app(tmp, f"{conv.sample_id}-summaries", embedder) as app:
        dia_of = {}
        for session in sessions_of(conv):
            turns = [t for t in conv.turns if t.session == session]
            text = summarizer.summarize([t.text for t in turns])
            with app.store.transaction():
                mid = app.store.add(
                    NewMemory(
                        kind="summary",
                        source=source_of(conv, session),
                        occurred_at=turns[0].occurred_at,
                        ingested_at=turns[-1].occurred_at,
                        content_hash=hashlib.sha256(f"{session}\n{text}".encode()).hexdigest(),
                        text=text,
                        strength=14.0,
                    ),
                    embedder.embed([text])[0],
                )
            dia_of[mid] = {t.dia_id for t in turns}
        results["summarise"] = score(app, conv, end, dia_of)
    # papertape: consolidation after each session (as the nightly job would) and at the end
    with new_app(tmp, f"{conv.sample_id}-papertape", embedder, byte_budget_mb=budget / 1e6) as app:
        ids = {}
        merged_into: dict[int, int] = {}
        for session in sessions_of(conv):
            store_session(app, conv, session, ids)
            last = max(t.occurred_at for t in conv.turns if t.session == session)
            report = _consolidate(app, summarizer, last + 3600)
            merged_into.update({gone: kept for kept, gone in report.merged})
        report = _consolidate(app, summarizer, end)
        merged_into.update({gone: kept for kept, gone in report.merged})
        dia_of = defaultdict(set)
        for dia, mid in ids.items():
            while mid in merged_into:
                mid = merged_into[mid]
            dia_of[mid].add(dia)
        results["papertape"] = score(app, conv, end, dict(dia_of))
        results["papertape"]["tiers"] = {
            name: {"count": b.count, "bytes": b.bytes} for name, b in app.stats().tiers.items()
        }
    results["budget"] = {"bytes": budget}
    return results


def _consolidate(app: Papertape, summarizer: CachedSummarizer, now: float) -> ConsolidationReport:
    # No importance ratings by the model here: one model call per fading turn would take
    # hours on this machine; the signals alone set importance.
    return Consolidator(app.store, app.embedder, app.settings, summarizer).run(now)


def combine(per_conv: list[dict]) -> dict:
    report: dict = {"policies": {}}
    for policy in POLICIES:
        sums: dict[int, float] = defaultdict(float)
        counts: dict[int, int] = defaultdict(int)
        total_bytes = 0
        own = 0.0
        for conv in per_conv:
            own += conv[policy]["own"]
            for c, v in conv[policy]["sums"].items():
                sums[c] += v
            for c, n in conv[policy]["counts"].items():
                counts[c] += n
            total_bytes += conv[policy]["bytes"]
        n_all = sum(counts.values())
        report["policies"][policy] = {
            "bytes": total_bytes,
            "recall@10": sum(sums.values()) / n_all,
            "own_recall@10": own / n_all,
            "categories": {str(c): sums[c] / counts[c] for c in sorted(counts)},
            "questions": n_all,
        }
    tiers: dict = defaultdict(lambda: {"count": 0, "bytes": 0})
    for conv in per_conv:
        for name, bucket in conv["papertape"]["tiers"].items():
            tiers[name]["count"] += bucket["count"]
            tiers[name]["bytes"] += bucket["bytes"]
    report["papertape_tiers"] = dict(tiers)
    report["budget_bytes"] = sum(conv["budget"]["bytes"] for conv in per_conv)
    return report


def table(report: dict) -> str:
    keep = report["policies"]["keep"]
    cats = list(keep["categories"])
    lines = [
        "| policy | bytes | share of keep | evidence r@10 | share of keep's r@10 | "
        "r@10 by own memory | " + " | ".join(f"{c} {CATEGORIES[int(c)]}" for c in cats) + " |",
        "|---|---|---|---|---|---|" + "---|" * len(cats),
    ]
    for policy in POLICIES:
        row = report["policies"][policy]
        lines.append(
            f"| {policy} | {row['bytes']:,} | {row['bytes'] / keep['bytes']:.3f} | "
            f"{row['recall@10']:.3f} | {row['recall@10'] / keep['recall@10']:.3f} | "
            f"{row['own_recall@10']:.3f} | "
            + " | ".join(f"{row['categories'].get(c, float('nan')):.3f}" for c in cats)
            + " |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    benchlib.add_data_option(parser)
    parser.add_argument("--limit", type=int, default=None, help="only the first N conversations")
    parser.add_argument("--budget", type=float, default=0.25, help="share of keep's bytes")
    parser.add_argument("--summarizer", choices=("extractive", "model"), default="extractive")
    parser.add_argument("--model", default="smollm2-135m", help="with --summarizer model")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    benchlib.data_file(args.data, "bench_forgetting")
    conversations = load(args.data)[: args.limit]
    embedder = CachedEmbedder(load_embedder("minilm"))
    generator_app = None
    if args.summarizer == "model":
        settings = load_settings(Path(tempfile.mkdtemp()), overrides={"model": args.model})
        generator_app = Papertape(settings)
        inner: Summarizer = ModelSummarizer(generator_app.generator())
    else:
        inner = ExtractiveSummarizer()
    summarizer = CachedSummarizer(inner)
    started = time.perf_counter()
    per_conv = []
    with tempfile.TemporaryDirectory() as tmp:
        for conv in conversations:
            per_conv.append(run_conversation(conv, embedder, summarizer, args.budget, tmp))
            print(
                f"  {conv.sample_id} done ({time.perf_counter() - started:.0f} s)", file=sys.stderr
            )
    report = combine(per_conv)
    report["summarizer"] = summarizer.name
    report["summary_seconds"] = round(summarizer.seconds, 1)
    report["seconds"] = round(time.perf_counter() - started, 1)
    report["conversations"] = [c.sample_id for c in conversations]
    if generator_app is not None:
        generator_app.close()
    if args.json:
        print(json.dumps(report, indent=2))
        return
    command = "scripts/bench_forgetting.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    print(benchlib.header(command))
    print(f"conversations: {', '.join(report['conversations'])}; summaries: {report['summarizer']}")
    print(f"budget: {report['budget_bytes']:,} bytes ({args.budget:.0%} of keep)\n")
    print(table(report))
    print("\npapertape tiers at the end:")
    for name, bucket in report["papertape_tiers"].items():
        print(f"  {name:<8} {bucket['count']:>6} memories {bucket['bytes']:>12,} bytes")
    paper, keep = report["policies"]["papertape"], report["policies"]["keep"]
    drop = report["policies"]["drop-oldest"]
    print(
        f"\npapertape / keep: bytes {paper['bytes'] / keep['bytes']:.3f}, "
        f"recall {paper['recall@10'] / keep['recall@10']:.3f}; "
        f"papertape / drop-oldest recall {paper['recall@10'] / drop['recall@10']:.3f}"
    )
    print(f"({report['seconds']} s, of which summaries {report['summary_seconds']} s)")


if __name__ == "__main__":
    main()
