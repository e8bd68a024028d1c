#!/usr/bin/env python3
"""Does `ask` say so when the answer was never stored, and still answer what was?

A small model asked about a thing its notes never mention answers anyway, with a value from
a note on something else. Each case of the set (tests/data/unstored_questions.json, written
blind to the answer code) is a fresh store of a person's notes laid on their days, and
questions of four kinds: `stored` (the answer is in a note, asked in other words; the
strings a right answer holds), `absent_topic` (never noted), `absent_detail` (the topic is
noted, the detail asked is not) and `other_person` (a note says A did it; the question asks
it of B, who is named elsewhere).

An answer is declined when the model says it is not in the memories or guesses, or when
papertape marks it as not supported. Every answer is asked once; the marks are counted as
shipped and again without the check that what an answer cites is about its question
(`is_about`, agent/answer/check.py), the baseline in the same run: the same answer, its
other marks. Every answer is printed for reading. tests/data/unstored_heldout.json is a
second set, written blind later, to try on it what was read off the first.

    python -m scripts.bench.unstored --model qwen2.5-coder-1.5b [--cases FILE] [--set N=V]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from agent.answer.check import is_supported
from agent.answer.prompt import memory_line
from agent.answer.session import Answer
from agent.cli.output import answer_marks
from agent.errors import UserError
from agent.service import Papertape
from agent.settings import load_settings
from scripts.bench import common

PROG = common.command_name(__file__)
CASES = common.ROOT / "tests/data/unstored_questions.json"
HELD_OUT = common.ROOT / "tests/data/unstored_heldout.json"  # written blind, later: --cases
NOW = 1_717_200_000.0  # June 2024
KINDS = ("stored", "absent_topic", "absent_detail", "other_person")
CHECKS = ("shipped", "without is_about")


def declined(answer: Answer, held: bool, *, about_check: bool) -> bool:
    """Whether the person is told their memories do not give this answer; without the
    about check, by the answer's other marks: another person's lines, a name they do not
    hold, words they do not hold (`held`)."""
    if answer.status != "answered":
        return True
    if about_check or not answer.off_question:
        return not answer.supported
    return answer.not_of is not None or answer.not_named is not None or not held


def held_by_cited(app: Papertape, answer: Answer) -> bool:
    """The word-and-closeness test alone on what the answer cites, as the model saw it (a
    fresh store: no time words read)."""
    cited = [memory_line(m) for m in answer.memories if m.id in answer.citations]
    return is_supported(
        app.embedder,
        answer.text,
        answer.question,
        cited,
        min_similarity=app.settings.support_min_similarity,
    )


def right(answer: Answer, question: dict[str, Any]) -> bool:
    text = answer.text.casefold()
    return any(value.casefold() in text for value in question["answer"])


def load_cases(path: Path) -> list[dict[str, Any]]:
    fields = ("id", "language", "notes", "questions")
    cases = common.read_cases(path, PROG, "unstored-question cases", fields)
    for case in cases:
        for question in case["questions"]:
            if question.get("kind") not in KINDS or "q" not in question:
                common.refuse(PROG, f"case {case['id']} has a question without q or a kind.")
            if question["kind"] == "stored" and not question.get("answer"):
                common.refuse(PROG, f"case {case['id']} has a stored question without answer.")
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--cases", type=Path, default=CASES, help=f"the set (default: {CASES})")
    common.add_set_option(parser)
    args = parser.parse_args()
    changed = common.settings_set(args.set, PROG, {"model": "--model"})
    cases = load_cases(args.cases)
    print(common.header("python -m scripts.bench.unstored " + " ".join(sys.argv[1:])))
    print(f"model: {args.model}; {len(cases)} cases from {args.cases}\n")
    counts: Counter[tuple[str, str, str]] = Counter()
    print("| case | kind | language | right value | declined | marks | answer |")
    print("|---|---|---|---|---|---|---|")
    for case in cases:
        with tempfile.TemporaryDirectory() as tmp:
            try:
                settings = load_settings(
                    Path(tmp), overrides={**changed, "model": args.model}, env={}
                )
            except UserError as exc:
                common.refuse(PROG, str(exc), exc.exit_code)
            with Papertape(settings) as app:
                common.lay_notes(app, case["notes"], NOW)
                for question in case["questions"]:
                    answer = app.chat(remember=False).ask(question["q"], now=NOW)
                    kind = question["kind"]
                    found = kind == "stored" and right(answer, question)
                    held = held_by_cited(app, answer)
                    for check in CHECKS:
                        refused = declined(answer, held, about_check=check == "shipped")
                        outcome = "declined" if refused else ("right" if found else "answered")
                        counts[(kind, check, outcome)] += 1
                    marks = " ".join(answer_marks(answer)).replace("|", "/")
                    shown = answer.text.replace("|", "/").replace("\n", " ")
                    print(
                        f"| {case['id']} | {kind} | {question.get('q_language', case['language'])}"
                        f" | {'yes' if found else '-'} | "
                        f"{'yes' if declined(answer, held, about_check=True) else '-'} | {marks} | "
                        f"{shown} |",
                        flush=True,
                    )
    print("\n| kind | check | right, not declined | answered otherwise | declined |")
    print("|---|---|---|---|---|")
    for kind in KINDS:
        for check in CHECKS:
            row = " | ".join(
                str(counts[(kind, check, o)]) for o in ("right", "answered", "declined")
            )
            print(f"| {kind} | {check} | {row} |")


if __name__ == "__main__":
    main()
