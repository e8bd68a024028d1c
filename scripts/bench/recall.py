#!/usr/bin/env python3
"""Evidence recall@k on LoCoMo: papertape's fused recall against BM25 alone and vectors alone.

Every turn of a conversation becomes a memory ("speaker: text", plus the image caption),
ingested as if captured live: each session is stored at its own end. Each question
then asks recall for 20 memories in each mode; recall@k is the share of the question's
evidence turns among the top k. All three modes run through the same code in the same run.

    python -m scripts.bench.recall --data ../shared/data/locomo/locomo7.json [--json]
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from agent.answer.recall import MODES
from agent.service import Papertape
from agent.settings import load_settings
from scripts.bench import common
from scripts.bench.locomo_data import CATEGORIES, load, store_conversation

PROG = common.command_name(__file__)

KS = (5, 10, 20)
DAY = 86400.0


def evaluate(
    path: Path,
    overrides: dict[str, str],
    progress: bool,
    only: set[str] | None = None,
    skip: set[str] | None = None,
) -> dict:
    conversations = [
        c
        for c in load(path)
        if (not only or c.sample_id in only) and c.sample_id not in (skip or set())
    ]
    # sums[mode][category][k] = sum of per-question recall; counts[category] = questions
    sums: dict = {m: defaultdict(lambda: dict.fromkeys(KS, 0.0)) for m in MODES}
    counts: dict[int, int] = defaultdict(int)
    skipped = 0
    seconds = {m: 0.0 for m in MODES}
    for conv in conversations:
        with tempfile.TemporaryDirectory() as tmp:
            settings = load_settings(Path(tmp), overrides=overrides, env={})
            with Papertape(settings) as app:
                ids = store_conversation(app, conv)
                now = conv.turns[-1].occurred_at + DAY
                for q in conv.questions:
                    wanted = {ids[d] for d in q.evidence if d in ids}
                    if not wanted:
                        skipped += 1
                        continue
                    counts[q.category] += 1
                    for mode in MODES:
                        start = time.perf_counter()
                        hits = app.recall(
                            q.question, now=now, k=max(KS), mode=mode, strengthen=False
                        )
                        seconds[mode] += time.perf_counter() - start
                        ranked = [h.memory.id for h in hits]
                        for k in KS:
                            found = len(wanted & set(ranked[:k]))
                            sums[mode][q.category][k] += found / len(wanted)
        if progress:
            print(
                f"  {conv.sample_id}: {len(conv.turns)} turns, {len(conv.questions)} questions",
                file=sys.stderr,
            )
    total = sum(counts.values())
    report = {
        "data": str(path),
        "settings": overrides,
        "questions": total,
        "skipped_without_evidence": skipped,
        "modes": {},
        "ms_per_query": {},
    }
    for mode in MODES:
        per_cat = {
            str(c): {f"r@{k}": sums[mode][c][k] / counts[c] for k in KS} | {"n": counts[c]}
            for c in sorted(counts)
        }
        overall = {f"r@{k}": sum(sums[mode][c][k] for c in counts) / total for k in KS}
        report["modes"][mode] = {"categories": per_cat, "all": overall}
        report["ms_per_query"][mode] = 1000 * seconds[mode] / max(total, 1)
    return report


def table(report: dict) -> str:
    lines = [
        "| category | n | "
        + " | ".join(f"{m} r@{k}" for k in KS for m in MODES)
        + " | fused / best baseline @10 |",
        "|---|---|" + "---|" * (len(KS) * len(MODES) + 1),
    ]
    cats = list(report["modes"]["fused"]["categories"])
    for c in [*cats, "all"]:
        rows = {
            m: (report["modes"][m]["categories"][c] if c != "all" else report["modes"][m]["all"])
            for m in MODES
        }
        n = rows["fused"].get("n", report["questions"])
        best = max(rows["vector"]["r@10"], rows["keyword"]["r@10"])
        ratio = rows["fused"]["r@10"] / best if best else float("nan")
        name = f"{c} {CATEGORIES[int(c)]}" if c != "all" else "all"
        lines.append(
            f"| {name} | {n} | "
            + " | ".join(f"{rows[m][f'r@{k}']:.3f}" for k in KS for m in MODES)
            + f" | {ratio:.3f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    common.add_data_option(parser)
    common.add_set_option(parser)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="SAMPLE_ID",
        help="evaluate only this conversation (repeatable)",
    )
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        metavar="SAMPLE_ID",
        help="leave this conversation out (repeatable), e.g. the tuning one",
    )
    args = parser.parse_args()
    common.data_file(args.data, PROG)
    overrides = common.settings_set(args.set, PROG)
    report = evaluate(
        args.data, overrides, progress=not args.json, only=set(args.only), skip=set(args.skip)
    )
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(common.header("python -m scripts.bench.recall " + shlex.join(sys.argv[1:])))
    print(
        f"questions with evidence: {report['questions']} "
        f"(skipped, no evidence in the turns: {report['skipped_without_evidence']})"
    )
    print("ms per query: " + ", ".join(f"{m} {v:.1f}" for m, v in report["ms_per_query"].items()))
    print()
    print(table(report))


if __name__ == "__main__":
    main()
