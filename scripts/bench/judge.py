#!/usr/bin/env python3
"""Judge answers blind, the way the LLM judge "J" of Mem0, Zep and LightMem reads them.

1. `shuffle ROWS... --blind FILE --key FILE`: the answers of every model and version, mixed
   into one file in random order, each with a blind id, its question, its reference answer
   and its category; nothing says which version wrote it. The key joins them back.
2. Judge FILE by reading (a person, or a helper given JUDGING below): one line of JSON per
   answer, {"blind": ..., "label": "CORRECT" | "PARTIAL" | "WRONG" | "ABSTAINED"}.
3. `join --blind FILE --key FILE --labels FILE ROWS... --out FILE`: the rows with their label
   (one file of per-question labels for every version), then the table: J per category and
   over categories 1-4, adversarial questions declined, token F1 beside it, the model's
   statuses, and how many correct answers the support check marked as not supported.

    python -m scripts.bench.judge shuffle ../runs/*.jsonl --blind ../runs/blind.jsonl \
        --key ../runs/key.json
    python -m scripts.bench.judge join --blind ../runs/blind.jsonl --key ../runs/key.json \
        --labels ../runs/labels.jsonl ../runs/*.jsonl --out docs/answers/judged.jsonl

Run files and the blind file hold LoCoMo's text (CC BY-NC): keep them outside the repository;
the labels file `join` writes holds question ids, not text.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from scripts.bench import common
from scripts.bench.locomo_data import CATEGORIES

PROG = common.command_name(__file__)
LABELS = ("CORRECT", "PARTIAL", "WRONG", "ABSTAINED")
TEXT_FIELDS = frozenset({"question", "reference", "answer", "marks", "raw_reply"})

JUDGING = """\
For each line, read the answer against the reference answer to the question.
- CORRECT: it states the reference's content, in any words; extra detail is fine; a date that
  names the same period is fine ("May 2023" for "7 May 2023" is CORRECT only if the question
  asks for the month; a different day is WRONG); a list missing at most one item is CORRECT.
- PARTIAL: part of the reference's content, and nothing that contradicts it.
- WRONG: other content, or content that contradicts the reference.
- ABSTAINED: the answer declines (says it does not know, or that the memories do not say),
  or is empty.
Category 5 questions are adversarial: the reference is a trap that the conversation does not
support for the person asked about. For them, declining is CORRECT (label it CORRECT), and any
answer that gives content is WRONG.
Lines in parentheses after an answer are papertape's marks, shown beside it. An answer marked
"(the model says this is not in your memories)" is a decline: label it ABSTAINED (CORRECT in
category 5), whatever words come before the mark. So is an answer marked "(not supported by
your memories: the lines it rests on are not <person>'s ...)" or "(not supported by your
memories: you asked about <person>; the answer tells it of <someone else>)", for the
person the question asks about: papertape says its memories do not tell this of them. So is
an answer marked "(not supported by your memories: what it cites is not about what you
asked)": papertape says the memories it rests on do not speak of what was asked.
"""


def rows_in(paths: list[Path]) -> list[dict[str, Any]]:
    rows = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                rows.append(json.loads(line))
    return rows


def row_key(row: dict[str, Any]) -> str:
    return f"{row['version']}|{row['model']}|{row['id']}"


def shown(row: dict[str, Any]) -> str:
    """The answer as the person sees it: the model's words, then the marks beside them (a
    reply whose status says the memories do not hold it is shown as such)."""
    return "\n".join([row["answer"] or "(no answer)", *row.get("marks", [])])


def shuffle(args: argparse.Namespace) -> None:
    rows = rows_in(args.rows)
    random.Random(args.seed).shuffle(rows)
    key = {}
    with args.blind.open("w", encoding="utf-8") as out:
        for n, row in enumerate(rows, start=1):
            blind = f"a{n:04d}"
            key[blind] = row_key(row)
            out.write(
                json.dumps(
                    {
                        "blind": blind,
                        "category": row["category"],
                        "question": row["question"],
                        "reference": row["reference"],
                        "answer": shown(row),
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
    args.key.write_text(json.dumps(key, indent=0), encoding="utf-8")
    print(f"{len(rows)} answers shuffled into {args.blind}; key in {args.key}", file=sys.stderr)


def declined(row: dict[str, Any]) -> bool:
    return bool(row["label"] == "ABSTAINED" or (row["category"] == 5 and row["label"] == "CORRECT"))


def report(rows: list[dict[str, Any]]) -> str:
    by_version: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_version[(row["model"], row["version"])].append(row)
    cats = [c for c in CATEGORIES if c != 5]
    head = " | ".join(f"J {c} {CATEGORIES[c]}" for c in cats)
    lines = [
        f"| model | version | questions | {head} | J 1-4 | adversarial declined | "
        "F1 1-4 | statuses (answered / guess / not in memories) | correct marked unsupported | "
        "ttft p50 s | prompt tokens p50 |",
        "|---|---|---|" + "---|" * (len(cats) + 7),
    ]
    for (model, version), mine in sorted(by_version.items()):

        def j(rows: list[dict[str, Any]]) -> str:
            return f"{sum(r['label'] == 'CORRECT' for r in rows) / len(rows):.3f}" if rows else "-"

        per_cat = " | ".join(
            f"{j(of_cat)} ({len(of_cat)})"
            for of_cat in ([r for r in mine if r["category"] == c] for c in cats)
        )
        main = [r for r in mine if r["category"] != 5]
        adversarial = [r for r in mine if r["category"] == 5]
        f1 = statistics.mean(r["f1"] for r in main) if main else 0.0
        statuses = "/".join(
            str(sum(r["status"] == s for r in mine))
            for s in ("answered", "guess", "not_in_memories")
        )
        correct = [r for r in main if r["label"] == "CORRECT"]
        flagged = [r for r in correct if r["status"] == "answered" and not r["supported"]]
        ttfts = [r["ttft_s"] for r in mine if r.get("ttft_s")]
        tokens = [r["prompt_tokens"] for r in mine if r.get("prompt_tokens")]
        lines.append(
            f"| {model} | {version} | {len(mine)} | {per_cat} | {j(main)} | "
            f"{sum(declined(r) for r in adversarial)}/{len(adversarial)} | {f1:.3f} | "
            f"{statuses} | {len(flagged)} of {len(correct)} | "
            f"{statistics.median(ttfts) if ttfts else 0:.1f} | "
            f"{statistics.median(tokens) if tokens else 0:.0f} |"
        )
    return "\n".join(lines)


def ttft_by_size(rows: list[dict[str, Any]], edges: tuple[int, ...] = (600, 800, 1000)) -> str:
    """Time to the first token, median, by the prompt's size, for each model."""
    lines = ["| model | prompt tokens | answers | ttft p50 s |", "|---|---|---|---|"]
    by_model: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        if row.get("ttft_s"):
            by_model[row["model"]].append(row)
    for model, mine in sorted(by_model.items()):
        low = 0
        for high in (*edges, 10**9):
            bucket = [r["ttft_s"] for r in mine if low <= r["prompt_tokens"] < high]
            if bucket:
                span = f"{low}-{high - 1}" if high < 10**9 else f"{low}+"
                lines.append(
                    f"| {model} | {span} | {len(bucket)} | {statistics.median(bucket):.1f} |"
                )
            low = high
    return "\n".join(lines)


def join(args: argparse.Namespace) -> None:
    key = json.loads(args.key.read_text(encoding="utf-8"))
    labels: dict[str, str] = {}
    for line in args.labels.read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            if item["label"] not in LABELS:
                common.refuse(PROG, f"{item['blind']} has label {item['label']!r}; use {LABELS}.")
            labels[item["blind"]] = item["label"]
    by_key = {row_key(r): r for r in rows_in(args.rows)}
    missing = [b for b in key if b not in labels]
    if missing:
        common.refuse(PROG, f"{len(missing)} answers have no label, {missing[0]} first.")
    judged = [{**by_key[key[b]], "label": labels[b], "blind": b} for b in sorted(key)]
    judged.sort(key=lambda r: (r["model"], r["version"], r["id"]))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as out:
        for row in judged:
            # LoCoMo's text (CC BY-NC) and the answers quoting it stay out of the labels file.
            row = {k: v for k, v in row.items() if k not in TEXT_FIELDS}
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(report(judged))
    print()
    print(ttft_by_size(judged))


def main() -> None:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    mix = sub.add_parser("shuffle", help="mix every version's answers into one blind file")
    mix.add_argument("rows", type=Path, nargs="+")
    mix.add_argument("--blind", type=Path, required=True)
    mix.add_argument("--key", type=Path, required=True)
    mix.add_argument("--seed", type=int, default=None, help="default: a new order each time")
    back = sub.add_parser("join", help="join the labels back and print the table")
    back.add_argument("rows", type=Path, nargs="+")
    back.add_argument("--blind", type=Path, required=True)
    back.add_argument("--key", type=Path, required=True)
    back.add_argument("--labels", type=Path, required=True)
    back.add_argument("--out", type=Path, required=True)
    sub.add_parser("rules", help="print the judging rules")
    args = parser.parse_args()
    for path in getattr(args, "rows", []):
        common.data_file(path, PROG)
    if args.command == "shuffle":
        shuffle(args)
    elif args.command == "join":
        join(args)
    else:
        print(JUDGING)


if __name__ == "__main__":
    main()
