#!/usr/bin/env python3
"""The first word's wait with kept prompt beginnings against reading every prompt whole.

`ask` reads two prompts for most questions: the question's reading (asks_when: instructions
and worked examples, the same for every question) and the answer prompt (instructions, the
same for every question, then the memories). llama.cpp keeps one prompt's cache, so each
replaces the other; papertape has the model keep the shared beginnings (`keep_prefix`) and
copy them back. Both ways on the same questions in one run, on one loaded model: the
baseline first, through a generator that cannot keep (every prompt read whole), then as
shipped. Greedy decoding, so the answers should be the same word for word; how many are is
printed beside the times.

Questions: --questions drawn with --seed from categories 1-4 of one conversation (every
category, when-questions among them, so the pick runs too), asked a day after its last
session on a fresh store made here. Nothing is stored.

    python -m scripts.bench.kept_prefix --model qwen2.5-coder-1.5b [--conversation conv-26]
        [--questions 12] [--seed 5]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from statistics import median

from agent.answer.session import Answer, ChatSession
from agent.errors import Failure, UserError
from agent.service import Papertape
from agent.settings import load_settings
from models.generator import ChatMessage, Generator, JsonSchema
from scripts.bench import common
from scripts.bench.answers import DAY
from scripts.bench.locomo_data import Question, load, store_conversation

PROG = common.command_name(__file__)


class ReadsWhole:
    """A generator as given, less its keeping of prompt beginnings."""

    def __init__(self, inner: Generator) -> None:
        self._inner = inner
        self.name = inner.name
        self.context_tokens = inner.context_tokens
        self.constrains_output = inner.constrains_output

    def format_chat(self, messages: Sequence[ChatMessage]) -> str:
        return self._inner.format_chat(messages)

    def count_tokens(self, text: str) -> int:
        return self._inner.count_tokens(text)

    def stream(
        self,
        prompt: str,
        *,
        max_tokens: int,
        stop: Sequence[str] = (),
        schema: JsonSchema | None = None,
    ) -> Iterator[str]:
        return self._inner.stream(prompt, max_tokens=max_tokens, stop=stop, schema=schema)


def ask_all(
    app: Papertape, generator: Generator, questions: list[Question], now: float
) -> list[Answer]:
    answers = []
    for q in questions:
        session = ChatSession(app.store, app.embedder, generator, app.settings, remember=False)
        answers.append(session.ask(q.question, now=now))
        print(f"  {answers[-1].ttft_s or 0:.1f} s: {q.question[:60]}", file=sys.stderr)
    return answers


def main() -> None:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    common.add_data_option(parser)
    parser.add_argument("--model", required=True, help="a catalogued name or a .gguf path")
    parser.add_argument("--conversation", default="conv-26", help="a LoCoMo sample_id")
    parser.add_argument("--questions", type=int, default=12)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    common.data_file(args.data, PROG)
    if args.questions < 1:
        common.refuse(PROG, f"--questions must be at least 1; got {args.questions}.")
    try:
        conversations = {c.sample_id: c for c in load(args.data)}
    except (ValueError, KeyError, TypeError) as exc:
        common.refuse(PROG, f"{args.data} does not follow LoCoMo's schema ({exc}).")
    conv = conversations.get(args.conversation)
    if conv is None:
        common.refuse(PROG, f"{args.data} has no conversation {args.conversation}.")
    pool = [q for q in conv.questions if q.category in (1, 2, 3, 4) and q.evidence]
    questions = random.Random(args.seed).sample(pool, min(args.questions, len(pool)))
    now = conv.turns[-1].occurred_at + DAY
    with tempfile.TemporaryDirectory() as tmp:
        try:
            settings = load_settings(Path(tmp), overrides={"model": args.model}, env={})
            with Papertape(settings) as app:
                store_conversation(app, conv)
                print("every prompt read whole:", file=sys.stderr)
                whole = ask_all(app, ReadsWhole(app.generator()), questions, now)
                print("beginnings kept:", file=sys.stderr)
                started = time.perf_counter()
                kept = ask_all(app, app.generator(), questions, now)
                seconds = time.perf_counter() - started
        except (UserError, Failure) as exc:
            common.refuse(PROG, str(exc), exc.exit_code)
    whole_s = median(a.ttft_s or 0.0 for a in whole)
    kept_s = median(a.ttft_s or 0.0 for a in kept)
    pairs = zip(whole, kept, strict=True)
    same = sum(a.text == b.text and a.citations == b.citations for a, b in pairs)
    print(common.header(f"{PROG} --model {args.model} --conversation {args.conversation}"))
    print(f"questions: {len(questions)}; {seconds:.0f} s for the kept run")
    print("| prompts | time to first token p50 | ratio to reading whole | same answer |")
    print("|---|---|---|---|")
    print(f"| read whole (baseline) | {whole_s:.1f} s | 1.00 | |")
    print(f"| beginnings kept | {kept_s:.1f} s | {kept_s / whole_s:.2f} | {same} of {len(kept)} |")


if __name__ == "__main__":
    main()
