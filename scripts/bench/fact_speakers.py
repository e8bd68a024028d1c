"""The speaker check on facts read by hand: which facts `told_of_another` drops, against
how a reader labelled their attribution (docs/answers/facts_read.jsonl).

Each labelled fact comes with its source lines as "Speaker: text"; the check sees those
lines, who said each, and the run's speakers, as consolidation gives them to it
(agent/memory/facts.py, agent/people.py). No model is run: the check is words and names.
A labelled fact gives each act to the right person (RIGHT), to another person (WRONG, or
OTHER in the earlier run's labels), or names no one (NONE).

    python -m scripts.bench.fact_speakers [--labels FILE]
"""

from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from agent.memory.drafts import Draft, needed_sources
from agent.memory.facts import told_of_another
from scripts.bench import common

PROG = common.command_name(__file__)
LABELS = common.ROOT / "docs" / "answers" / "facts_read.jsonl"
MISATTRIBUTED = ("WRONG", "OTHER")


def speaker_of(line: str) -> str:
    return line.split(": ", 1)[0] if ": " in line else ""


def dropped(rows: list[dict[str, Any]]) -> list[bool]:
    """For each labelled fact, whether the check drops it."""
    people: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        people[row["run"]].update(filter(None, map(speaker_of, row["sources"])))
    drops = []
    for row in rows:
        lines = dict(enumerate(row["sources"]))
        speakers = {i: speaker_of(line) for i, line in lines.items() if speaker_of(line)}
        # As consolidation does: first the lines the fact needs, then whose they are.
        needed = needed_sources(row["fact"], "", [(i, line, "") for i, line in lines.items()])
        draft = Draft(row["fact"], "", needed, 3)
        drops.append(told_of_another(draft, lines, speakers, sorted(people[row["run"]])))
    return drops


def tally(rows: list[dict[str, Any]], drops: list[bool]) -> dict[str, dict[str, int]]:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for row, drop in zip(rows, drops, strict=True):
        counts[row["attribution"]]["dropped" if drop else "kept"] += 1
    return {label: dict(c) for label, c in sorted(counts.items())}


def main() -> None:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    parser.add_argument("--labels", type=Path, default=LABELS, help=f"default: {LABELS}")
    args = parser.parse_args()
    try:
        rows = [json.loads(line) for line in args.labels.read_text(encoding="utf-8").splitlines()]
        result = tally(rows, dropped(rows))
    except OSError:
        common.refuse(PROG, f"{args.labels} cannot be read.")
    except (ValueError, KeyError, TypeError, AttributeError):
        common.refuse(PROG, f"{args.labels} is not JSON lines of labelled facts.")
    print(f"{len(rows)} facts read by hand ({args.labels.name})")
    print("| attribution | facts | dropped by the speaker check |")
    print("|---|---|---|")
    for label, c in result.items():
        print(f"| {label} | {sum(c.values())} | {c.get('dropped', 0)} |")
    wrong = sum(sum(result.get(label, {}).values()) for label in MISATTRIBUTED)
    caught = sum(result.get(label, {}).get("dropped", 0) for label in MISATTRIBUTED)
    right = result.get("RIGHT", {})
    print(
        f"misattributed dropped: {caught} of {wrong}; right dropped: "
        f"{right.get('dropped', 0)} of {sum(right.values())}"
    )


if __name__ == "__main__":
    main()
