#!/usr/bin/env python3
"""Kept prompt beginnings against reading every prompt whole: `ask`'s wait, `consolidate`'s pace.

Many prompts open the same way: the question's reading (asks_when: instructions and worked
examples), the answer prompt's instructions, consolidation's time-word examples. llama.cpp
keeps one prompt's cache, so each replaces the others; papertape has the model keep these
shared beginnings (`keep_prefix`) and copy them back. Each part runs both ways in one run on one
loaded model: the baseline first, through a generator that cannot keep (every prompt read
whole), then as shipped. Decoding is greedy, so the answers and facts should be the same
word for word; whether they are is printed beside the times.

- answers: --questions drawn with --seed from categories 1-4 of one conversation (every
  category, when-questions among them, so the pick runs too), asked a day after its last
  session on a fresh store made here; nothing is stored.
- consolidation: the first --sessions sessions of the conversation on a fresh store each
  time, consolidated once a day after the last (time words, facts, updates, summaries).

    python -m scripts.bench.kept_prefix --model qwen2.5-coder-1.5b [--conversation conv-26]
        [--part answers|consolidation|both] [--questions 12] [--seed 5] [--sessions 2]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from statistics import median

from agent.answer.session import Answer, ChatSession
from agent.errors import Failure, UserError
from agent.service import Papertape
from agent.settings import Settings, load_settings
from models.generator import Generator, Wrapped
from scripts.bench import common
from scripts.bench.answers import DAY
from scripts.bench.locomo_data import (
    Conversation,
    Question,
    load,
    sessions_of,
    store_conversation,
    store_session,
)

PROG = common.command_name(__file__)


def ask_all(
    app: Papertape, generator: Generator, questions: list[Question], now: float
) -> list[Answer]:
    answers = []
    for q in questions:
        session = ChatSession(app.store, app.embedder, generator, app.settings, remember=False)
        answers.append(session.ask(q.question, now=now))
        print(f"  {answers[-1].ttft_s or 0:.1f} s: {q.question[:60]}", file=sys.stderr)
    return answers


def answers_part(args: argparse.Namespace, conv: Conversation, settings: Settings) -> None:
    pool = [q for q in conv.questions if q.category in (1, 2, 3, 4) and q.evidence]
    questions = random.Random(args.seed).sample(pool, min(args.questions, len(pool)))
    now = conv.turns[-1].occurred_at + DAY
    with Papertape(settings) as app:
        store_conversation(app, conv)
        print("every prompt read whole:", file=sys.stderr)
        whole = ask_all(app, Wrapped(app.generator()), questions, now)
        print("beginnings kept:", file=sys.stderr)
        kept = ask_all(app, app.generator(), questions, now)
    whole_s = median(a.ttft_s or 0.0 for a in whole)
    kept_s = median(a.ttft_s or 0.0 for a in kept)
    pairs = zip(whole, kept, strict=True)
    same = sum(a.text == b.text and a.citations == b.citations for a, b in pairs)
    print(f"\n`ask`, {len(questions)} questions of {conv.sample_id} (seed {args.seed}):\n")
    print("| prompts | time to first token p50 | ratio to reading whole | same answer |")
    print("|---|---|---|---|")
    print(f"| read whole (baseline) | {whole_s:.1f} s | 1.00 | |")
    print(f"| beginnings kept | {kept_s:.1f} s | {kept_s / whole_s:.2f} | {same} of {len(kept)} |")


def consolidated(
    settings: Settings, generator: Generator, conv: Conversation, sessions: int
) -> tuple[int, float, list[str]]:
    """The memories of the first `sessions` sessions, the seconds consolidation took over
    them, and the facts it made."""
    with Papertape(settings, generator=generator) as app:
        ids: dict[str, int] = {}
        for session in sessions_of(conv)[:sessions]:
            store_session(app, conv, session, ids)
        now = max(m.occurred_at for m in app.store.get_many(list(ids.values())).values()) + DAY
        started = time.perf_counter()
        report = app.consolidate(now=now)
        seconds = time.perf_counter() - started
        facts = sorted(m.text for m in app.store.get_many(report.facts).values())
    return len(ids), seconds, facts


def consolidation_part(args: argparse.Namespace, conv: Conversation, settings: Settings) -> None:
    with Papertape(settings) as loader:
        generator = loader.generator()
        runs = []
        for name, given in (("whole", Wrapped(generator)), ("kept", generator)):
            home = settings.home / name
            home.mkdir()
            print(f"consolidating, prompts {name}:", file=sys.stderr)
            runs.append(consolidated(replace(settings, home=home), given, conv, args.sessions))
    (memories, whole_s, whole_facts), (_, kept_s, kept_facts) = runs
    same = "the same facts" if whole_facts == kept_facts else "different facts"
    print(f"\n`consolidate` (time words, facts, updates, summaries, ratings), {memories} memories")
    print(f"of {conv.sample_id}'s first {args.sessions} sessions, each run on a fresh store:\n")
    print("| prompts | seconds | memories a minute | ratio to reading whole | facts |")
    print("|---|---|---|---|---|")
    print(
        f"| read whole (baseline) | {whole_s:.0f} | {memories / whole_s * 60:.1f} | 1.00 | "
        f"{len(whole_facts)} |"
    )
    print(
        f"| beginnings kept | {kept_s:.0f} | {memories / kept_s * 60:.1f} | "
        f"{whole_s / kept_s:.2f} | {len(kept_facts)}, {same} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    common.add_data_option(parser)
    parser.add_argument("--model", required=True, help="a catalogued name or a .gguf path")
    parser.add_argument("--conversation", default="conv-26", help="a LoCoMo sample_id")
    parser.add_argument("--part", choices=("answers", "consolidation", "both"), default="both")
    parser.add_argument("--questions", type=int, default=12, help="asked in the answers part")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument(
        "--sessions", type=int, default=2, help="consolidated in the consolidation part"
    )
    args = parser.parse_args()
    common.data_file(args.data, PROG)
    for name in ("questions", "sessions"):
        if getattr(args, name) < 1:
            common.refuse(PROG, f"--{name} must be at least 1; got {getattr(args, name)}.")
    try:
        conversations = {c.sample_id: c for c in load(args.data)}
    except (ValueError, KeyError, TypeError) as exc:
        common.refuse(PROG, f"{args.data} does not follow LoCoMo's schema ({exc}).")
    conv = conversations.get(args.conversation)
    if conv is None:
        common.refuse(PROG, f"{args.data} has no conversation {args.conversation}.")
    print(common.header(f"{PROG} --model {args.model} --conversation {args.conversation}"))
    with tempfile.TemporaryDirectory() as tmp:
        try:
            settings = load_settings(Path(tmp), overrides={"model": args.model}, env={})
            if args.part in ("answers", "both"):
                answers_part(args, conv, settings)
            if args.part in ("consolidation", "both"):
                consolidation_part(args, conv, settings)
        except (UserError, Failure) as exc:
            common.refuse(PROG, str(exc), exc.exit_code)


if __name__ == "__main__":
    main()
