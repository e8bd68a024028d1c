#!/usr/bin/env python3
"""Does `ask` give the value that holds now, after a later note changed it?

A moved appointment typed today is, until facts are read from it, a second note beside the
first: nothing says which holds. The daemon writes the facts of new memories every
`facts_every_minutes` and links a fact that updates an older one (agent/memory/updates.py);
a note whose every fact is updated is history, and `ask` leaves it out. Each case of the set
(tests/data/stale_answers.json, written blind to the answer prompt) is a fresh store of a
few notes laid on their days, one question, the strings a right answer holds (`now`) and
those of the outdated or look-alike value (`stale`). Updates: a later note changes the
value. Look-alikes: a later note on a like topic that changes nothing asked (another
person's appointment), where preferring the later note is wrong.

Asked twice on the same store and loaded model, in one run: with the notes alone (the
baseline: what `ask` does before the facts job), and after the facts job
(`consolidate(new_only=True)`: time words, facts, updates; nothing moved). An answer is
scored by the strings it holds: now, stale, both (often a right "moved from ... to ..."),
or neither. Every answer is printed for reading.

    python -m scripts.bench.stale --model qwen2.5-coder-1.5b [--set FILE] [--every N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from agent.service import Papertape
from agent.settings import load_settings
from scripts.bench import common

PROG = common.command_name(__file__)
SET = common.ROOT / "tests/data/stale_answers.json"
NOW = 1_717_200_000.0  # June 2024
VARIANTS = ("notes alone", "after the facts job")
OUTCOMES = ("now", "both", "stale", "neither")


def outcome(answer: str, case: dict[str, Any]) -> str:
    text = answer.casefold()
    now = any(s.casefold() in text for s in case["now"])
    stale = any(s.casefold() in text for s in case["stale"])
    return {(True, False): "now", (True, True): "both", (False, True): "stale"}.get(
        (now, stale), "neither"
    )


def kind(case: dict[str, Any]) -> str:
    return "look-alike" if case["kind"].startswith("look-alike") else "update"


def load_cases(path: Path) -> list[dict[str, Any]]:
    fields = ("id", "kind", "language", "notes", "question", "now", "stale")
    return common.read_cases(path, PROG, "stale-answer cases", fields)


def main() -> None:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--set", type=Path, default=SET, help=f"the cases (default: {SET})")
    parser.add_argument(
        "--every",
        type=int,
        default=1,
        help="ask every Nth case, from the first (about 3 minutes a case with the 1.5B on 2 cores)",
    )
    args = parser.parse_args()
    if args.every < 1:
        common.refuse(PROG, f"--every must be at least 1; got {args.every}.")
    cases = load_cases(args.set)[:: args.every]
    print(common.header("python -m scripts.bench.stale " + " ".join(sys.argv[1:])))
    print(f"model: {args.model}; {len(cases)} cases from {args.set}\n")
    counts: Counter[tuple[str, str, str]] = Counter()
    facts = linked = 0
    print("| case | kind | language | variant | outcome | answer |")
    print("|---|---|---|---|---|---|")
    for case in cases:
        with tempfile.TemporaryDirectory() as tmp:
            settings = load_settings(Path(tmp), overrides={"model": args.model}, env={})
            with Papertape(settings) as app:
                common.lay_notes(app, case["notes"], NOW)
                for variant in VARIANTS:
                    if variant == "after the facts job":
                        report = app.consolidate(now=NOW, new_only=True)
                        facts += len(report.facts)
                        linked += len(report.fact_updates)
                    text = app.chat(remember=False).ask(case["question"], now=NOW).text
                    result = outcome(text, case)
                    counts[(kind(case), variant, result)] += 1
                    shown = text.replace("|", "/").replace("\n", " ")
                    print(
                        f"| {case['id']} | {kind(case)} | {case['language']} | {variant} | "
                        f"{result} | {shown} |",
                        flush=True,
                    )
    print("\n| kind | variant | " + " | ".join(OUTCOMES) + " |")
    print("|---|---|" + "---|" * len(OUTCOMES))
    for group in ("update", "look-alike"):
        for variant in VARIANTS:
            row = " | ".join(str(counts[(group, variant, o)]) for o in OUTCOMES)
            print(f"| {group} | {variant} | {row} |")
    print(f"\nthe facts job wrote {facts} facts and linked {linked} updates.")


if __name__ == "__main__":
    main()
