#!/usr/bin/env python3
"""Forgetting policies on LoCoMo: bytes kept against answer recall@10, in one run.

Each conversation is laid on its real session dates: every turn a memory, each session stored
as it ends. Every store is then aged to a month after the last session, and each question of
categories 1-4 asks recall for 10 memories. Answer recall@10 is the share of the reference
answer's words (Porter-stemmed, stopwords out) found in what those 10 memories show the model:
their text as it is now (a summary or a gist counts only for the words it really holds) and
their day as the prompt writes it. Characters recalled is how much the model would read.
Policies, each on its own store:

- keep: everything, verbatim, float32 vectors;
- drop-oldest: keep, then the oldest memories deleted down to papertape's bytes;
- summaries: every session replaced by one summary (the summariser papertape uses);
- papertape: consolidation after each session and at the end, as the nightly job would run
  (facts written by --model, summaries, decay, tiers, merges), with the byte budget set to
  --budget of keep's bytes.

Without --model, papertape has no facts (and then keeps its words: text leaves only after
facts are made). Summaries are extractive unless --summarizer model. Bytes are papertape's
own count: UTF-8 text, vector bytes and page/media blobs.

    python -m scripts.bench.forgetting --data ../shared/data/locomo/locomo7.json
        [--conversations ID ...] [--limit N]
        [--model qwen2.5-coder-0.5b] [--summarizer extractive|model] [--json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shlex
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from agent.lines import written_day
from agent.memory.consolidation import Consolidator
from agent.memory.report import ConsolidationReport
from agent.memory.summaries import ExtractiveSummarizer, ModelSummarizer, Summarizer
from agent.service import Papertape
from agent.settings import load_settings
from models import Embedder, load_embedder
from models.generator import Generator
from scripts.bench import common
from scripts.bench.locomo_data import (
    CATEGORIES,
    Conversation,
    add_conversations_option,
    chosen_conversations,
    load,
    sessions_of,
    store_session,
)
from scripts.bench.locomo_score import tokens
from storage import NewMemory

PROG = common.command_name(__file__)

DAY = 86400.0
K = 10
POLICIES = ("keep", "drop-oldest", "summaries", "papertape")
ASKED = (1, 2, 3, 4)
# The measure's stopwords (English, as LoCoMo is): words an answer shares with any text.
STOPWORDS = frozenset(
    tokens(
        "a an the and or but of to in on at for with by from as is are was were be been being "
        "it its this that these those he she they them his her their i me my we our you your "
        "do does did not no yes so if than then there what which who whom when where why how "
        "has have had will would can could should might also just about into over after "
        "before up out very more most some any all"  # not "may": a month in dates
    )
)


def answer_words(text: str) -> set[str]:
    return {w for w in tokens(text) if w not in STOPWORDS}


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
            started = time.perf_counter()
            self.cache[key] = self.inner.summarize(texts)
            self.seconds += time.perf_counter() - started
        return self.cache[key]


def first_sessions(conv: Conversation, sessions: int | None) -> Conversation:
    """The conversation cut after its first `sessions` sessions, with the questions whose
    evidence lies in them."""
    if sessions is None:
        return conv
    kept = set(sessions_of(conv)[:sessions])
    turns = tuple(t for t in conv.turns if t.session in kept)
    said = {t.dia_id for t in turns}
    questions = tuple(q for q in conv.questions if q.evidence and set(q.evidence) <= said)
    return replace(conv, turns=turns, questions=questions)


def new_app(tmp: str, name: str, embedder: Embedder, **overrides: object) -> Papertape:
    budget = overrides.pop("byte_budget_mb", None)
    settings = load_settings(Path(tmp) / name, overrides=overrides, env={})
    if budget is not None:  # a share of one conversation: below what a person may set
        settings = replace(settings, byte_budget_mb=float(str(budget)))
    return Papertape(settings, embedder=embedder)


def score(app: Papertape, conv: Conversation, now: float) -> dict:
    sums: dict[int, float] = defaultdict(float)
    counts: dict[int, int] = defaultdict(int)
    chars = 0
    for q in conv.questions:
        wanted = answer_words(q.answer)
        if q.category not in ASKED or not wanted:
            continue
        hits = app.recall(q.question, now=now, k=K, strengthen=False)
        shown = " ".join(f"({written_day(h.memory.occurred_at)}) {h.memory.text}" for h in hits)
        chars += len(shown)
        sums[q.category] += len(wanted & answer_words(shown)) / len(wanted)
        counts[q.category] += 1
    return {
        "sums": dict(sums),
        "counts": dict(counts),
        "chars": chars,
        "bytes": app.stats().bytes,
        "kinds": {kind: bucket.count for kind, bucket in app.stats().kinds.items()},
    }


def drop_oldest(app: Papertape, budget: int) -> None:
    total = app.stats().bytes
    doomed = []
    for memory in sorted(app.store.iter_memories(), key=lambda m: (m.occurred_at, m.id)):
        if total <= budget:
            break
        total -= app.store.memory_bytes(memory)
        doomed.append(memory.id)
    app.store.delete(doomed)


def summaries_only(
    conv: Conversation, embedder: CachedEmbedder, summarizer: CachedSummarizer, tmp: str
) -> Papertape:
    app = new_app(tmp, f"{conv.sample_id}-summaries", embedder)
    for session in sessions_of(conv):
        turns = [t for t in conv.turns if t.session == session]
        text = summarizer.summarize([t.text for t in turns])
        with app.store.transaction():
            app.store.add(
                NewMemory(
                    kind="summary",
                    source=f"locomo:{conv.sample_id}:s{session}",
                    occurred_at=turns[0].occurred_at,
                    ingested_at=turns[-1].occurred_at,
                    content_hash=hashlib.sha256(f"{session}\n{text}".encode()).hexdigest(),
                    text=text,
                    strength=14.0,
                ),
                embedder.embed([text])[0],
            )
    return app


def run_conversation(
    conv: Conversation,
    embedder: CachedEmbedder,
    summarizer: CachedSummarizer,
    facts: Generator | None,
    budget_share: float,
    tmp: str,
    reuse: bool = False,
) -> dict:
    end = conv.turns[-1].occurred_at + 30 * DAY
    results: dict[str, dict] = {}
    for rebuilt in ("keep", "summaries"):  # left by an earlier run with --keep-stores
        shutil.rmtree(Path(tmp) / f"{conv.sample_id}-{rebuilt}", ignore_errors=True)
    with new_app(tmp, f"{conv.sample_id}-keep", embedder) as keep:
        ids: dict[str, int] = {}
        for session in sessions_of(conv):
            store_session(keep, conv, session, ids)
        results["keep"] = score(keep, conv, end)
        budget = int(results["keep"]["bytes"] * budget_share)
        with summaries_only(conv, embedder, summarizer, tmp) as app:
            results["summaries"] = score(app, conv, end)
        reports = []
        started = time.perf_counter()
        name = f"{conv.sample_id}-papertape"
        reused = reuse and (Path(tmp) / name / "papertape.db").exists()
        with new_app(tmp, name, embedder, byte_budget_mb=budget / 1e6) as app:
            sessions = [] if reused else sessions_of(conv)
            for n, session in enumerate(sessions, start=1):
                store_session(app, conv, session, {})
                last = max(t.occurred_at for t in conv.turns if t.session == session)
                reports.append(_consolidate(app, summarizer, facts, last + 3600))
                print(
                    f"  {conv.sample_id} session {n}/{len(sessions)} consolidated "
                    f"({time.perf_counter() - started:.0f} s; "
                    f"{sum(len(r.facts) for r in reports)} facts so far)",
                    file=sys.stderr,
                )
            if not reused:
                reports.append(_consolidate(app, summarizer, facts, end))
            results["papertape"] = score(app, conv, end)
            results["papertape"]["tiers"] = {
                name: {"count": b.count, "bytes": b.bytes} for name, b in app.stats().tiers.items()
            }
        seconds = time.perf_counter() - started
        drop_oldest(keep, results["papertape"]["bytes"])
        results["drop-oldest"] = score(keep, conv, end)
    results["extraction"] = {
        "memories": len(conv.turns),
        "facts": sum(len(r.facts) for r in reports),
        "unsupported": sum(r.facts_unsupported for r in reports),
        "misattributed": sum(r.facts_misattributed for r in reports),
        "duplicates": sum(r.facts_duplicates for r in reports),
        "updates": sum(len(r.fact_updates) for r in reports),
        "episodes": sum(r.fact_episodes for r in reports),
        "small_talk_forgotten": sum(
            1 for r in reports for m in r.moves if m.reason == "small talk"
        ),
        "seconds": seconds,
    }
    results["budget"] = {"bytes": budget}
    return results


def _consolidate(
    app: Papertape, summarizer: CachedSummarizer, facts: Generator | None, now: float
) -> ConsolidationReport:
    # No importance ratings by the model here: one model call per fading turn would take
    # hours on this machine; the signals alone set importance.
    return Consolidator(app.store, app.embedder, app.settings, summarizer, facts=facts).run(now)


def combine(per_conv: list[dict]) -> dict:
    report: dict = {"policies": {}}
    for policy in POLICIES:
        sums: dict[int, float] = defaultdict(float)
        counts: dict[int, int] = defaultdict(int)
        for conv in per_conv:
            for c, v in conv[policy]["sums"].items():
                sums[c] += v
            for c, n in conv[policy]["counts"].items():
                counts[c] += n
        n_all = sum(counts.values())
        report["policies"][policy] = {
            "bytes": sum(conv[policy]["bytes"] for conv in per_conv),
            "chars": sum(conv[policy]["chars"] for conv in per_conv),
            "recall@10": sum(sums.values()) / n_all,
            "categories": {str(c): sums[c] / counts[c] for c in sorted(counts)},
            "questions": n_all,
        }
    tiers: dict = defaultdict(lambda: {"count": 0, "bytes": 0})
    for conv in per_conv:
        for name, bucket in conv["papertape"]["tiers"].items():
            tiers[name]["count"] += bucket["count"]
            tiers[name]["bytes"] += bucket["bytes"]
    report["papertape_tiers"] = dict(tiers)
    kinds: dict[str, int] = defaultdict(int)
    for conv in per_conv:
        for kind, count in conv["papertape"]["kinds"].items():
            kinds[kind] += count
    report["papertape_kinds"] = dict(kinds)
    extraction: dict[str, float] = defaultdict(float)
    for conv in per_conv:
        for key, value in conv["extraction"].items():
            extraction[key] += value
    report["extraction"] = dict(extraction)
    report["budget_bytes"] = sum(conv["budget"]["bytes"] for conv in per_conv)
    return report


def table(report: dict) -> str:
    keep = report["policies"]["keep"]
    cats = list(keep["categories"])
    lines = [
        "| policy | bytes | share of keep | answer r@10 | share of keep's | chars recalled | "
        + " | ".join(f"{c} {CATEGORIES[int(c)]}" for c in cats)
        + " |",
        "|---|---|---|---|---|---|" + "---|" * len(cats),
    ]
    for policy in POLICIES:
        row = report["policies"][policy]
        lines.append(
            f"| {policy} | {row['bytes']:,} | {row['bytes'] / keep['bytes']:.3f} | "
            f"{row['recall@10']:.3f} | {row['recall@10'] / keep['recall@10']:.3f} | "
            f"{row['chars']:,} | "
            + " | ".join(f"{row['categories'].get(c, float('nan')):.3f}" for c in cats)
            + " |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    common.add_data_option(parser)
    add_conversations_option(parser, "run only")
    parser.add_argument("--limit", type=int, default=None, help="only the first N conversations")
    parser.add_argument(
        "--sessions",
        type=int,
        default=None,
        help="only each conversation's first N sessions, and the questions they answer",
    )
    parser.add_argument("--budget", type=float, default=0.25, help="share of keep's bytes")
    parser.add_argument(
        "--model", default=None, help="the model that writes facts (none: no facts)"
    )
    parser.add_argument("--summarizer", choices=("extractive", "model"), default="extractive")
    parser.add_argument(
        "--keep-stores",
        type=Path,
        default=None,
        metavar="DIR",
        help="leave each policy's store in DIR (for scripts.bench.answers --aged DIR)",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="with --keep-stores: score papertape's stores left there as they are (no model)",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.reuse and not args.keep_stores:
        common.refuse(PROG, "--reuse needs --keep-stores DIR.")
    common.data_file(args.data, PROG)
    if args.summarizer == "model" and not args.model:
        common.refuse(PROG, "--summarizer model needs --model NAME.")
    named = chosen_conversations(load(args.data), args.conversations, PROG, args.data)
    conversations = [first_sessions(c, args.sessions) for c in named[: args.limit]]
    embedder = CachedEmbedder(load_embedder("minilm"))
    model_app = None
    facts: Generator | None = None
    inner: Summarizer = ExtractiveSummarizer()
    if args.model:
        settings = load_settings(Path(tempfile.mkdtemp()), overrides={"model": args.model})
        model_app = Papertape(settings, embedder=embedder)
        facts = model_app.generator()
        if args.summarizer == "model":
            inner = ModelSummarizer(facts)
    summarizer = CachedSummarizer(inner)
    started = time.perf_counter()
    per_conv = []
    with tempfile.TemporaryDirectory() as scratch:
        tmp = str(args.keep_stores) if args.keep_stores else scratch
        for conv in conversations:
            per_conv.append(
                run_conversation(conv, embedder, summarizer, facts, args.budget, tmp, args.reuse)
            )
            done = per_conv[-1]["extraction"]
            print(
                f"  {conv.sample_id} done ({time.perf_counter() - started:.0f} s; "
                f"{done['facts']} facts, {done['unsupported']} unsupported)",
                file=sys.stderr,
            )
    report = combine(per_conv)
    report["summarizer"] = summarizer.name
    report["facts_model"] = args.model
    report["summary_seconds"] = round(summarizer.seconds, 1)
    report["seconds"] = round(time.perf_counter() - started, 1)
    report["conversations"] = [c.sample_id for c in conversations]
    if model_app is not None:
        model_app.close()
    if args.json:
        print(json.dumps(report, indent=2))
        return
    command = "python -m scripts.bench.forgetting " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    print(common.header(command))
    print(
        f"conversations: {', '.join(report['conversations'])}; summaries: "
        f"{report['summarizer']}; facts: {args.model or 'none'}"
    )
    print(f"budget: {report['budget_bytes']:,} bytes ({args.budget:.0%} of keep)\n")
    print(table(report))
    print("\npapertape at the end, by tier and kind:")
    for name, bucket in report["papertape_tiers"].items():
        print(f"  {name:<8} {bucket['count']:>6} memories {bucket['bytes']:>12,} bytes")
    print("  " + ", ".join(f"{k} {n}" for k, n in sorted(report["papertape_kinds"].items())))
    ex = report["extraction"]
    if ex["episodes"]:
        minutes = ex["seconds"] / 60
        print(
            f"\nfacts: {ex['facts']:.0f} from {ex['memories']:.0f} memories "
            f"({ex['facts'] / ex['memories']:.2f} a memory) in {ex['episodes']:.0f} episodes; "
            f"dropped as unsupported {ex['unsupported']:.0f} "
            f"({ex['unsupported'] / max(1, ex['facts'] + ex['unsupported']):.0%} of those "
            f"written), as told of the wrong person {ex['misattributed']:.0f}, as repeats "
            f"{ex['duplicates']:.0f}; updates linked {ex['updates']:.0f}; "
            f"small talk forgotten {ex['small_talk_forgotten']:.0f}; "
            f"{ex['memories'] / minutes:.1f} memories a minute (consolidation, all steps)"
        )
    paper, keep = report["policies"]["papertape"], report["policies"]["keep"]
    drop = report["policies"]["drop-oldest"]
    print(
        f"\npapertape / keep: bytes {paper['bytes'] / keep['bytes']:.3f}, "
        f"answer recall {paper['recall@10'] / keep['recall@10']:.3f}; "
        f"papertape / drop-oldest answer recall {paper['recall@10'] / drop['recall@10']:.3f}"
    )
    print(f"({report['seconds']} s, of which summaries {report['summary_seconds']} s)")


if __name__ == "__main__":
    main()
