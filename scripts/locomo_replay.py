#!/usr/bin/env python3
"""Judge a LoCoMo run's recorded model replies again with today's answer rules, no model run.

papertape's answer is the model's reply put through ask's rules (agent/chat.py: citations,
"I don't know", the speaker rule, dates, shortening). A change to those rules alone can be
measured on every question a run asked, in minutes instead of hours: each conversation is
stored again, each question recalled and its prompt fitted again (with the run's model's
tokenizer), and where ask calls the model it is given the reply the run recorded.

A row replays exactly when the run recorded the model's replies (the `replies` field, written
by scripts/bench_locomo.py since session 16) and ask asks for no more of them than the run
did. Older rows hold only the answer, or the model's words where papertape replaced them; they
are replayed from those, approximately, and counted apart. Either way the replay is only
meaningful while recall and the prompt are as they were for the run.

    scripts/locomo_replay.py ROWS [ROWS ...] [--data FILE] [--category ID ...] [--out FILE]

For each ROWS file and category: questions, exact replays, F1 as recorded, F1 replayed, and
how many answers changed, scoring higher and lower. --out writes the file's rows with
papertape's replaced by the replayed ones (the recorded answer kept as `recorded_answer`),
so scripts/locomo_paired.py can set them against the run's baselines.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import benchlib
from bench_locomo import DAY, papertape_answer, rows_in, scored_text
from locomo import (
    CATEGORIES,
    Conversation,
    add_category_option,
    chosen_categories,
    load,
    store_conversation,
)
from locomo_score import score
from replies import Replaying

from agent.errors import Failure, UserError
from agent.service import Papertape
from agent.settings import load_settings

SUBJECT = "papertape"
TABLE_HEAD = (
    "| category | questions | exact | F1 recorded | F1 replayed | changed | higher | lower |\n"
    "|---|---|---|---|---|---|---|---|"
)


def recorded_replies(row: dict[str, Any]) -> tuple[list[str], bool]:
    """The model's replies for a row, and whether they are exactly what it said."""
    if isinstance(row.get("replies"), list):
        return [str(r) for r in row["replies"]], True
    return [row.get("model_answer") or row["answer"]], False


def replay(app: Papertape, row: dict[str, Any], now: float) -> dict[str, Any]:
    """The row answered again from its recorded replies."""
    replies, exact = recorded_replies(row)
    model = Replaying(app.generator(), replies)
    answer = papertape_answer(app, model, row["question"], now)
    text = scored_text(answer)
    return {
        **row,
        "answer": text,
        "f1": score(text, row["reference"], row["category"]),
        "guess": answer.guess,
        "recorded_answer": row["answer"],
        "recorded_f1": row["f1"],
        "exact": exact and not model.exhausted,
    }


def settings_key(row: dict[str, Any]) -> tuple[str, int, str]:
    """What a row's run was set to that changes how it is answered."""
    return row["model"], int(row["context"]), json.dumps(row.get("set") or {}, sort_keys=True)


def replay_conversation(conv: Conversation, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each row of this conversation replayed, in the order given; the conversation is stored
    once, afresh, and each run's settings (model, context, --set) opened once."""
    now = conv.turns[-1].occurred_at + DAY
    done: dict[int, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as home:
        stored = False
        groups: dict[tuple[str, int, str], list[int]] = defaultdict(list)
        for index, row in enumerate(rows):
            groups[settings_key(row)].append(index)
        for (model, context, changed), indices in groups.items():
            overrides = {**json.loads(changed), "model": model, "context_tokens": context}
            settings = load_settings(Path(home), overrides=overrides, env={})
            with Papertape(settings) as app:
                if not stored:
                    store_conversation(app, conv)
                    stored = True
                for index in indices:
                    done[index] = replay(app, rows[index], now)
    return [done[index] for index in range(len(rows))]


def summary(rows: list[dict[str, Any]]) -> list[str]:
    """One table line per category of the replayed rows."""
    by_category: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_category[row["category"]].append(row)
    lines = []
    for category, group in sorted(by_category.items()):
        n = len(group)
        changed = [r for r in group if r["answer"] != r["recorded_answer"]]
        lines.append(
            f"| {category} {CATEGORIES[category]} | {n} | {sum(r['exact'] for r in group)} "
            f"| {sum(r['recorded_f1'] for r in group) / n:.3f} "
            f"| {sum(r['f1'] for r in group) / n:.3f} | {len(changed)} "
            f"| {sum(r['f1'] > r['recorded_f1'] for r in changed)} "
            f"| {sum(r['f1'] < r['recorded_f1'] for r in changed)} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("rows", nargs="+", type=Path, metavar="ROWS")
    benchlib.add_data_option(parser)
    add_category_option(parser, "replay only questions of")
    parser.add_argument(
        "--out", type=Path, default=None, help="write the rows, papertape's replayed, here"
    )
    args = parser.parse_args()
    benchlib.data_file(args.data, "locomo_replay")
    categories = chosen_categories(args.category, "locomo_replay")
    absent = [str(p) for p in args.rows if not p.is_file()]
    if absent:
        benchlib.refuse("locomo_replay", f"{absent[0]} does not exist.")
    try:
        files = {path: rows_in(path) for path in args.rows}
        conversations = {c.sample_id: c for c in load(args.data)}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        benchlib.refuse("locomo_replay", f"ROWS and --data must be LoCoMo files and rows ({exc}).")
    wanted = [
        (path, index, row)
        for path, rows in files.items()
        for index, row in enumerate(rows)
        if row.get("method") == SUBJECT and (not categories or row.get("category") in categories)
    ]
    needed = ("conversation", "question", "answer", "reference", "category", "f1", "model")
    broken = [path for path, _, row in wanted if any(key not in row for key in needed)]
    if broken:
        benchlib.refuse("locomo_replay", f"{broken[0]} does not hold bench_locomo's rows.")
    unknown = sorted({row["conversation"] for _, _, row in wanted} - set(conversations))
    if unknown:
        benchlib.refuse("locomo_replay", f"--data has no conversation {unknown[0]}.")
    by_conversation: dict[str, list[tuple[Path, int, dict[str, Any]]]] = defaultdict(list)
    for item in wanted:
        by_conversation[item[2]["conversation"]].append(item)
    replayed: dict[tuple[Path, int], dict[str, Any]] = {}
    for conv_id, items in sorted(by_conversation.items()):
        try:
            again = replay_conversation(conversations[conv_id], [row for _, _, row in items])
        except (UserError, Failure) as exc:
            benchlib.refuse("locomo_replay", str(exc), exc.exit_code)
        for (path, index, _), row in zip(items, again, strict=True):
            replayed[(path, index)] = row
        print(f"  {conv_id}: {len(items)} answers judged again", file=sys.stderr)

    command = "scripts/locomo_replay.py " + " ".join(sys.argv[1:])
    print(benchlib.header(command))
    for path, rows in files.items():
        mine = [replayed[(path, i)] for i in range(len(rows)) if (path, i) in replayed]
        if not mine:
            continue
        print(f"\n{path.name}\n")
        print(TABLE_HEAD)
        print("\n".join(summary(mine)))
    if args.out is not None:
        with args.out.open("w", encoding="utf-8") as out:
            for path, rows in files.items():
                for index, row in enumerate(rows):
                    out.write(json.dumps(replayed.get((path, index), row)) + "\n")


if __name__ == "__main__":
    main()
