#!/usr/bin/env python3
"""Answers as a person gets them: `ask` on a fixed, stratified random sample of LoCoMo.

The same questions for every model and every version: --per-category questions of each of
the five categories, drawn with --seed from all conversations (questions with evidence, and
the adversarial ones). Each conversation is its own store, every turn a memory stored on the
conversation's calendar; questions are asked a day after its last session, as `ask` runs
them, storing nothing. Each row keeps what the person would see (the answer, its citations,
its status and whether the support check passed), the time to the first token, the prompt's
size, and LoCoMo's token F1 as a secondary column.

Answers are judged by reading them, blind (scripts/bench/judge.py): shuffle the rows of
every model and version into one file, judge, then join the labels back.

    python -m scripts.bench.answers --model qwen2.5-coder-1.5b --out ../runs/qwen15.jsonl
        [--per-category 30] [--seed 29] [--subset N] [--data FILE] [--set NAME=VALUE ...]
        [--version TAG] [--category ID ...] [--conversations ID ...]

--out is appended to as each conversation finishes; a run with the same --out, model,
version, seed and sample size goes on where a stopped one ended.

--conversations draws the sample from those conversations only; --category asks only the
questions of that category (repeatable) from the same draw, so its rows match a full run's.
--aged DIR asks the stores `python -m scripts.bench.forgetting --keep-stores DIR` left (each
conversation's `papertape` store, consolidated after each session and aged a month past the
last), at the time it aged them to, instead of a fresh store. --time-words first has the
model read a fresh store's memories for words naming another time, as consolidation does
each night (agent/memory/times.py), so the prompt shows the dates they name. Only the
memories `ask` would show for the sampled questions are read: what it shows does not depend
on time words, so the prompts are those reading every memory would give. --stores DIR keeps
each conversation's fresh store there and asks it again in a later run, time words already
read (it is made again when the conversation's memory ids were not kept beside it).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

from agent.answer.session import ChatSession
from agent.cli.output import answer_marks
from agent.errors import Failure, UserError
from agent.memory.times import TimeReader
from agent.service import Papertape
from agent.settings import load_settings
from scripts.bench import common
from scripts.bench.locomo_data import (
    CATEGORIES,
    Conversation,
    Question,
    add_category_option,
    add_conversations_option,
    chosen_categories,
    chosen_conversations,
    load,
    store_conversation,
)
from scripts.bench.locomo_score import score
from storage import store_files

DAY = 86400.0
AGED_DAYS = 30  # as scripts/bench/forgetting.py ages its stores
IDS_FILE = "ids.json"  # beside a kept store: LoCoMo's turn ids -> memory ids
PROG = common.command_name(__file__)


def question_id(conv: Conversation, index: int) -> str:
    return f"{conv.sample_id}:q{index}"


def stratified_sample(
    conversations: list[Conversation],
    per_category: int,
    seed: int,
    subset: int | None = None,
    categories: list[int] | None = None,
) -> dict[str, tuple[Conversation, Question]]:
    """`per_category` questions of each category (all of a category when it has fewer),
    drawn at random with `seed` from every conversation, by question id; with `subset`, the
    first that many of each category's draw (a random part of the same sample); with
    `categories`, only theirs, drawn as for all of them."""
    by_category: dict[int, list[tuple[str, Conversation, Question]]] = defaultdict(list)
    for conv in conversations:
        for index, q in enumerate(conv.questions):
            if q.evidence or q.category == 5:
                by_category[q.category].append((question_id(conv, index), conv, q))
    rng = random.Random(seed)
    chosen: dict[str, tuple[Conversation, Question]] = {}
    for category in sorted(by_category):
        pool = by_category[category]
        drawn = rng.sample(pool, min(per_category, len(pool)))
        if categories and category not in categories:
            continue
        for qid, conv, q in drawn[:subset]:
            chosen[qid] = (conv, q)
    return chosen


def read_time_words(app: Papertape, generator: Any, questions: list[Question], now: float) -> None:
    """Read the time words of every memory `ask` would show for the questions."""
    started = time.perf_counter()
    session = ChatSession(app.store, app.embedder, generator, app.settings, remember=False)
    wanted = {m.id for q in questions for m in session.evidence(q.question, now)}

    def shown(done: int, total: int, label: str) -> None:
        if done % 50 == 0 or done == total:
            print(
                f"  time words: {done} of {total}, {time.perf_counter() - started:.0f} s",
                file=sys.stderr,
            )

    read, found = TimeReader(app.store, generator).read_new(shown, among=wanted)
    print(f"  time words kept for {len(found)} of {read} memories read", file=sys.stderr)


def answer_rows(
    app: Papertape,
    conv: Conversation,
    questions: list[tuple[str, Question]],
    tags: dict[str, Any],
    *,
    aged: bool = False,
    time_words: bool = False,
    kept_ids: Path | None = None,
) -> list[dict[str, Any]]:
    # An aged store is asked when scripts.bench.forgetting aged it to; its turns' ids are not known.
    if aged:
        ids: dict[str, int] = {}
    elif kept_ids is not None and kept_ids.exists():
        ids = json.loads(kept_ids.read_text(encoding="utf-8"))
    else:
        ids = store_conversation(app, conv)
        if kept_ids is not None:
            kept_ids.write_text(json.dumps(ids), encoding="utf-8")
    now = conv.turns[-1].occurred_at + (AGED_DAYS * DAY if aged else DAY)
    generator = app.generator()
    if time_words:
        read_time_words(app, generator, [q for _, q in questions], now)
    rows = []
    for qid, q in questions:
        started = time.perf_counter()
        session = ChatSession(app.store, app.embedder, generator, app.settings, remember=False)
        answer = session.ask(q.question, now=now)
        wanted = {ids[d] for d in q.evidence if d in ids}
        shown = {m.id for m in answer.memories}
        rows.append(
            {
                "id": qid,
                **tags,
                "conversation": conv.sample_id,
                "category": q.category,
                "question": q.question,
                "reference": q.answer,
                "answer": answer.text,
                "marks": answer_marks(answer),
                "citations": list(answer.citations),
                "status": answer.status,
                "supported": answer.supported,
                "off_question": answer.off_question,
                "constrained": answer.constrained,
                "evidence_shown": len(wanted & shown) / len(wanted) if wanted else None,
                "evidence_offered": (
                    len(wanted & set(answer.offered)) / len(wanted)
                    if wanted and answer.offered
                    else None
                ),
                "offered_tokens": answer.offered_tokens,
                "evidence_cited": (
                    len(wanted & set(answer.citations)) / len(wanted) if wanted else None
                ),
                "prompt_tokens": answer.prompt_tokens,
                "ttft_s": answer.ttft_s,
                "seconds": time.perf_counter() - started,
                "f1": score(
                    "No information available."
                    if answer.status == "not_in_memories"
                    else answer.text,
                    q.answer,
                    q.category,
                ),
                "raw_reply": answer.raw_reply,
                "search_guess": answer.guess,
            }
        )
        print(
            f"  {qid} c{q.category} {answer.status} {rows[-1]['seconds']:.1f}s: "
            f"{answer.text[:60]!r}",
            file=sys.stderr,
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    common.add_data_option(parser)
    parser.add_argument("--model", required=True, help="a catalogued name or a .gguf path")
    parser.add_argument("--per-category", type=int, default=30)
    parser.add_argument("--seed", type=int, default=29)
    parser.add_argument(
        "--subset", type=int, default=None, help="ask only the first N of each category's draw"
    )
    parser.add_argument("--version", default="structured", help="a tag for this code's rows")
    parser.add_argument("--out", type=Path, required=True, help="append rows here; resume")
    add_conversations_option(parser, "draw the sample only from")
    add_category_option(parser, "ask, of the same draw, only the questions of")
    parser.add_argument(
        "--aged",
        type=Path,
        default=None,
        metavar="DIR",
        help="ask the stores scripts.bench.forgetting --keep-stores left",
    )
    parser.add_argument(
        "--time-words",
        action="store_true",
        help="read each memory's time words first, as consolidation does (a fresh store)",
    )
    parser.add_argument(
        "--stores",
        type=Path,
        default=None,
        metavar="DIR",
        help="keep each conversation's fresh store in DIR and ask it again in later runs",
    )
    parser.add_argument(
        "--questions",
        type=Path,
        default=None,
        metavar="FILE",
        help="ask, of the draw, only the question ids listed in FILE, one a line",
    )
    common.add_set_option(parser)
    args = parser.parse_args()
    if args.time_words and args.aged:
        common.refuse(PROG, "--time-words reads a fresh store; an aged one was read already.")
    if args.stores and args.aged:
        common.refuse(PROG, "--stores keeps fresh stores; --aged asks the ones aged before.")
    common.data_file(args.data, PROG)
    if args.per_category < 1:
        common.refuse(PROG, f"--per-category must be at least 1; got {args.per_category}.")
    changed = common.settings_set(args.set, PROG, {"model": "--model"})
    try:
        conversations = load(args.data)
    except (ValueError, KeyError, TypeError) as exc:
        common.refuse(PROG, f"{args.data} does not follow LoCoMo's schema ({exc}).")
    drawn_from = chosen_conversations(conversations, args.conversations, PROG, args.data)
    categories = chosen_categories(args.category, PROG)
    sample = stratified_sample(drawn_from, args.per_category, args.seed, args.subset, categories)
    if args.questions:
        try:
            listed = set(args.questions.read_text(encoding="utf-8").split())
        except OSError as exc:
            common.refuse(PROG, f"cannot read {args.questions}: {exc.strerror}.")
        sample = {qid: asked for qid, asked in sample.items() if qid in listed}
        if not sample:
            common.refuse(PROG, f"none of the questions {args.questions} lists is in the draw.")
    tags = {
        "model": args.model,
        "version": args.version,
        "seed": args.seed,
        "per_category": args.per_category,
        **({"set": changed} if changed else {}),
        **({"store": "aged"} if args.aged else {}),
        **({"time_words": True} if args.time_words else {}),
    }
    common.outside_repository(args.out, PROG)
    done: set[str] = set()
    if args.out.exists():
        for line in args.out.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if all(row.get(k) == v for k, v in tags.items()):
                done.add(row["id"])
    todo: dict[str, list[tuple[str, Question]]] = defaultdict(list)
    by_conv = {c.sample_id: c for c in conversations}
    for qid, (conv, q) in sample.items():
        if qid not in done:
            todo[conv.sample_id].append((qid, q))
    counts = {CATEGORIES[c]: sum(q.category == c for _, q in sample.values()) for c in CATEGORIES}
    print(f"{len(sample)} questions {counts}; {len(done)} already in {args.out}", file=sys.stderr)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            settings = load_settings(Path(tmp), overrides={**changed, "model": args.model}, env={})
        except UserError as exc:
            common.refuse(PROG, str(exc), exc.exit_code)
        for sample_id, questions in sorted(todo.items()):
            if args.aged:
                home = args.aged / f"{sample_id}-papertape"
                if not home.is_dir():
                    common.refuse(PROG, f"{home} holds no store from scripts.bench.forgetting.")
                settings = replace(settings, home=home)
            else:
                if args.stores:
                    home = common.outside_repository(args.stores / sample_id, PROG)
                    home.mkdir(parents=True, exist_ok=True)
                    settings = replace(settings, home=home)
                if not (args.stores and (home / IDS_FILE).exists()):  # else: asked again
                    for leftover in store_files(settings.store_path):
                        leftover.unlink(missing_ok=True)
            started = time.perf_counter()
            try:
                with Papertape(settings) as app:
                    conv = by_conv[sample_id]
                    rows = answer_rows(
                        app,
                        conv,
                        questions,
                        tags,
                        aged=args.aged is not None,
                        time_words=args.time_words,
                        kept_ids=home / IDS_FILE if args.stores else None,
                    )
            except (UserError, Failure) as exc:
                common.refuse(PROG, str(exc), exc.exit_code)
            with args.out.open("a", encoding="utf-8") as out:
                for row in rows:
                    out.write(json.dumps(row, ensure_ascii=False) + "\n")
            print(
                f"{sample_id}: {len(rows)} answers in {time.perf_counter() - started:.0f} s",
                file=sys.stderr,
            )


if __name__ == "__main__":
    main()
