#!/usr/bin/env python3
"""papertape against each baseline on LoCoMo, question by question, with bootstrap intervals.

A category's mean F1 over 20 or 30 questions moves by 0.03-0.04 when only the prompt changes
(docs/BENCHMARKS.md, session 12), so a gap between two methods means little without knowing
how much it would move on other questions. This pairs the methods' answers to the same
questions and resamples the questions: the mean difference in F1, its 95 % interval over
resamples, and how many answers scored higher and lower.

    python -m scripts.bench.locomo_paired ROWS [ROWS ...] [--category ID ...]
        [--resamples N] [--seed S]

ROWS are scripts/bench/locomo.py --out files; several are pooled, so runs of different
questions made with the same code can be read as one sample. A question answered twice by one
method (two runs of the same questions) is refused: which answer counts would be a choice.
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scripts.bench import common
from scripts.bench.common import percentile
from scripts.bench.locomo_data import CATEGORIES, add_category_option, chosen_categories
from scripts.bench.locomo_rows import rows_in

PROG = common.command_name(__file__)

SUBJECT = "papertape"
OVERALL = "1-4"  # LoCoMo's overall score leaves out adversarial questions


@dataclass(frozen=True)
class Paired:
    category: str  # a category id, or OVERALL
    against: str
    questions: int
    subject_f1: float
    other_f1: float
    difference: float
    low: float  # 95 % interval of the difference
    high: float
    higher: int  # questions where papertape scored higher
    lower: int


def bootstrap_interval(
    differences: Sequence[float], resamples: int, seed: int
) -> tuple[float, float]:
    """The 2.5th and 97.5th percentiles of the mean difference over resampled questions."""
    if not differences:
        return float("nan"), float("nan")
    chooser = random.Random(seed)
    n = len(differences)
    means = [sum(chooser.choices(differences, k=n)) / n for _ in range(resamples)]
    return percentile(means, 2.5), percentile(means, 97.5)


def by_question(rows: list[dict[str, Any]]) -> dict[str, dict[tuple[str, str], dict[str, Any]]]:
    """Scored rows by method, then by (conversation, question); a question a method answered
    twice is a ValueError."""
    table: dict[str, dict[tuple[str, str], dict[str, Any]]] = {}
    for row in rows:
        if row.get("f1") is None:
            continue
        key = (row["conversation"], row["question"])
        answered = table.setdefault(row["method"], {})
        if key in answered:
            raise ValueError(
                f"{row['method']} answered {row['question']!r} ({row['conversation']}) twice"
            )
        answered[key] = row
    return table


def compare(
    rows: list[dict[str, Any]],
    categories: Sequence[int],
    resamples: int,
    seed: int,
    overall: bool = True,
) -> list[Paired]:
    """papertape against every other method in the rows, per category and, with `overall`,
    over 1-4."""
    answered = by_question(rows)
    mine = answered.get(SUBJECT, {})
    groups = [(str(c), {c}) for c in categories] + ([(OVERALL, {1, 2, 3, 4})] if overall else [])
    results = []
    for method, theirs in answered.items():
        if method == SUBJECT:
            continue
        shared = sorted(set(mine) & set(theirs))
        for name, wanted in groups:
            keys = [k for k in shared if mine[k]["category"] in wanted]
            if not keys or (name == OVERALL and len({mine[k]["category"] for k in keys}) == 1):
                continue  # nothing to compare, or 1-4 would repeat its one category's line
            ours = [mine[k]["f1"] for k in keys]
            other = [theirs[k]["f1"] for k in keys]
            differences = [a - b for a, b in zip(ours, other, strict=True)]
            low, high = bootstrap_interval(differences, resamples, seed)
            results.append(
                Paired(
                    category=name,
                    against=method,
                    questions=len(keys),
                    subject_f1=sum(ours) / len(keys),
                    other_f1=sum(other) / len(keys),
                    difference=sum(differences) / len(keys),
                    low=low,
                    high=high,
                    higher=sum(d > 0 for d in differences),
                    lower=sum(d < 0 for d in differences),
                )
            )
    return results


def table(results: list[Paired]) -> str:
    lines = [
        "| category | against | questions | papertape | other | difference | 95 % interval "
        "| higher / lower |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in sorted(results, key=lambda r: (r.category == OVERALL, r.category)):
        name = (
            r.category if r.category == OVERALL else f"{r.category} {CATEGORIES[int(r.category)]}"
        )
        lines.append(
            f"| {name} | {r.against} | {r.questions} | {r.subject_f1:.3f} | {r.other_f1:.3f} | "
            f"{r.difference:+.3f} | {r.low:+.3f} to {r.high:+.3f} | {r.higher} / {r.lower} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    parser.add_argument("rows", nargs="+", type=Path, help="scripts.bench.locomo --out files")
    add_category_option(parser, "compare on")
    parser.add_argument("--resamples", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    categories = chosen_categories(args.category, PROG)
    if args.resamples < 1:
        common.refuse(PROG, "--resamples must be at least 1.")
    rows: list[dict[str, Any]] = []
    for path in args.rows:
        if not path.is_file():
            common.refuse(PROG, f"{path} does not exist.")
        try:
            rows += rows_in(path)
        except json.JSONDecodeError as exc:
            common.refuse(
                PROG,
                f"{path} is not JSON lines ({exc.msg}, line {exc.lineno}).",
            )
    present = sorted({r["category"] for r in rows if "category" in r})
    try:
        results = compare(
            rows, categories or present, args.resamples, args.seed, overall=not categories
        )
    except KeyError as exc:
        common.refuse(
            PROG,
            f"these are not scripts.bench.locomo rows (no {exc} field).",
        )
    except ValueError as exc:
        common.refuse(PROG, f"{exc}; pool runs of different questions only.")
    if not results:
        common.refuse(
            PROG,
            f"no question was answered by both {SUBJECT} and another method.",
        )
    if args.json:
        print(json.dumps([r.__dict__ for r in results], indent=2))
        return
    print(f"{args.resamples} paired bootstrap resamples of the questions, seed {args.seed}\n")
    print(table(results))


if __name__ == "__main__":
    main()
