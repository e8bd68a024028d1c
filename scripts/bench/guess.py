#!/usr/bin/env python3
"""The search guess against the question alone: the evidence `ask` shows, in one run.

The questions of categories 1-4 in the answers bench's sample (--per-category, --seed: the
150), and a held-out draw of as many more with --held-seed, none of them in the sample.
Each conversation is one store: those `scripts.bench.answers --stores DIR` kept, or, without
--stores, a fresh one made here. For each question `ask`'s evidence and prompt are built
twice, for the question alone and for it with the model's made-up answer line
(agent/answer/guess.py); the share of the question's evidence turns in the prompt, and
whether any of them is, are compared. Nothing is written to the stores.

    python -m scripts.bench.guess --model qwen2.5-coder-1.5b [--stores DIR] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path
from statistics import median
from typing import Any

from agent.answer.guess import search_guess
from agent.answer.prompt import fit_prompt
from agent.answer.session import ChatSession
from agent.errors import Failure, UserError
from agent.service import Papertape
from agent.settings import Settings, load_settings
from scripts.bench import common
from scripts.bench.answers import DAY, IDS_FILE, stratified_sample
from scripts.bench.locomo_data import (
    CATEGORIES,
    Conversation,
    Question,
    load,
    store_conversation,
)

PROG = common.command_name(__file__)
SPLITS = ("sample", "held out")


@dataclass(frozen=True)
class Shown:
    split: str
    category: int
    alone: float  # share of the evidence turns in the prompt, the question alone
    guessed: float  # and with the guess
    guess_s: float


def draws(
    conversations: list[Conversation], per_category: int, seed: int, held_seed: int
) -> list[tuple[str, str, Conversation, Question]]:
    """(split, id, conversation, question): the sample's questions of categories 1-4, then
    as many of each category drawn with `held_seed` from the rest."""
    sample = stratified_sample(conversations, per_category, seed)
    chosen = [("sample", qid, conv, q) for qid, (conv, q) in sample.items() if q.category != 5]
    wanted = {c: sum(q.category == c for _, _, _, q in chosen) for c in range(1, 5)}
    held: dict[int, int] = defaultdict(int)
    pool = stratified_sample(conversations, 10**6, held_seed)  # every question, in draw order
    for qid, (conv, q) in pool.items():
        if q.category in wanted and qid not in sample and held[q.category] < wanted[q.category]:
            held[q.category] += 1
            chosen.append(("held out", qid, conv, q))
    return chosen


def evidence_shown(
    app: Papertape,
    generator: Any,
    question: str,
    guess: str,
    now: float,
    settings: Settings | None = None,
) -> set[int]:
    """The ids of the memories `ask` would put in the prompt for `question` and `guess`,
    with `settings` (default: the app's)."""
    settings = settings or app.settings
    session = ChatSession(app.store, app.embedder, generator, settings, remember=False)
    memories = session.evidence(question, now, guess=guess)
    fitted = fit_prompt(
        generator,
        question,
        memories,
        [],
        answer_tokens=settings.answer_tokens,
        prompt_tokens=settings.prompt_tokens,
        times=app.store.times_of([m.id for m in memories]),
    )
    return {m.id for m in fitted.memories}


def measure(
    app: Papertape,
    generator: Any,
    conv: Conversation,
    questions: list[tuple[str, str, Question]],
    ids: dict[str, int],
) -> list[Shown]:
    now = conv.turns[-1].occurred_at + DAY
    out = []
    for split, qid, q in questions:
        wanted = {ids[d] for d in q.evidence if d in ids}
        if not wanted:
            continue
        started = time.perf_counter()
        guess = search_guess(generator, q.question)
        guess_s = time.perf_counter() - started
        alone = evidence_shown(app, generator, q.question, "", now)
        guessed = evidence_shown(app, generator, q.question, guess, now)
        out.append(
            Shown(
                split,
                q.category,
                len(wanted & alone) / len(wanted),
                len(wanted & guessed) / len(wanted),
                guess_s,
            )
        )
        print(f"  {qid}: {out[-1].alone:.2f} -> {out[-1].guessed:.2f}  {guess!r}", file=sys.stderr)
    return out


def summary(results: list[Shown]) -> dict[str, Any]:
    def of(rows: list[Shown]) -> dict[str, Any]:
        alone = sum(r.alone for r in rows) / len(rows)
        guessed = sum(r.guessed for r in rows) / len(rows)
        return {
            "questions": len(rows),
            "alone": round(alone, 3),
            "guessed": round(guessed, 3),
            "ratio": round(guessed / alone, 3) if alone else None,
            "any_alone": sum(r.alone > 0 for r in rows),
            "any_guessed": sum(r.guessed > 0 for r in rows),
            "better": sum(r.guessed > r.alone for r in rows),
            "worse": sum(r.guessed < r.alone for r in rows),
        }

    out: dict[str, Any] = {}
    for split in SPLITS:
        rows = [r for r in results if r.split == split]
        if rows:
            out[split] = {
                "all": of(rows),
                **{
                    CATEGORIES[c]: of([r for r in rows if r.category == c])
                    for c in sorted({r.category for r in rows})
                },
            }
    if results:
        out["guess_s_p50"] = round(median(r.guess_s for r in results), 2)
    return out


def table(result: dict[str, Any]) -> str:
    lines = [
        "| questions | n | evidence shown, question alone | with the guess | ratio "
        "| any shown: alone -> guessed | better / worse |",
        "|---|---|---|---|---|---|---|",
    ]
    for split in SPLITS:
        for part, r in result.get(split, {}).items():
            lines.append(
                f"| {split}, {part} | {r['questions']} | {r['alone']:.3f} | {r['guessed']:.3f} "
                f"| {r['ratio']} | {r['any_alone']} -> {r['any_guessed']} "
                f"| {r['better']} / {r['worse']} |"
            )
    return "\n".join(lines)


def add_draw_options(parser: argparse.ArgumentParser) -> None:
    """The model, and the sample and held-out draw `draws` makes."""
    parser.add_argument("--model", required=True, help="a catalogued name or a .gguf path")
    parser.add_argument("--per-category", type=int, default=30)
    parser.add_argument("--seed", type=int, default=29, help="the answers bench's sample")
    parser.add_argument("--held-seed", type=int, default=7, help="the held-out draw")


def main() -> None:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    common.add_data_option(parser)
    add_draw_options(parser)
    parser.add_argument(
        "--stores", type=Path, default=None, metavar="DIR", help="scripts.bench.answers' stores"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    common.data_file(args.data, PROG)
    if args.per_category < 1:
        common.refuse(PROG, f"--per-category must be at least 1; got {args.per_category}.")
    try:
        conversations = load(args.data)
    except (ValueError, KeyError, TypeError) as exc:
        common.refuse(PROG, f"{args.data} does not follow LoCoMo's schema ({exc}).")
    by_conv: dict[str, list[tuple[str, str, Question]]] = defaultdict(list)
    for split, qid, conv, q in draws(conversations, args.per_category, args.seed, args.held_seed):
        by_conv[conv.sample_id].append((split, qid, q))
    convs = {c.sample_id: c for c in conversations}
    results: list[Shown] = []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            settings = load_settings(Path(tmp), overrides={"model": args.model}, env={})
        except UserError as exc:
            common.refuse(PROG, str(exc), exc.exit_code)
        for sample_id, questions in sorted(by_conv.items()):
            home = args.stores / sample_id if args.stores else Path(tmp) / sample_id
            kept = home / IDS_FILE
            if args.stores and not kept.exists():
                common.refuse(PROG, f"{home} holds no store kept by scripts.bench.answers.")
            try:
                # recall strengthens nothing here: the stores stay as they were
                with Papertape(replace(settings, home=home, search_guess=False)) as app:
                    if kept.exists():
                        ids = json.loads(kept.read_text(encoding="utf-8"))
                    else:
                        ids = store_conversation(app, convs[sample_id])
                    results += measure(app, app.generator(), convs[sample_id], questions, ids)
            except (UserError, Failure) as exc:
                common.refuse(PROG, str(exc), exc.exit_code)
    result = summary(results)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(
        common.header(
            f"{PROG} --model {args.model}" + (f" --stores {args.stores}" if args.stores else "")
        )
    )
    print(table(result))
    print(f"\nthe guess took {result.get('guess_s_p50')} s (p50)")


if __name__ == "__main__":
    main()
