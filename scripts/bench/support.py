#!/usr/bin/env python3
"""The support check three ways: what each lets pass among right answers, made-up ones and
adversarial ones.

An answer is checked against the lines it cites (agent/answer/check.py). Compared on the
same answers and lines, in one run:

- off (the baseline): the answer's words found in its lines, else embedding closeness;
- unshared: the words, else the model's reading of whether the lines state it
  (agent/answer/stated.py);
- every: the model's reading for every answer.

Two sources of answers:

- `--set FILE` (tests/data/support_heldout.json): short notes, a question, an answer they
  support and one they do not (made up, another field's value, another person's act, the
  wrong time, the opposite), in four languages, written by someone who had not read the
  check. Each answer is checked against all of its item's notes, as if it cited them.
- `--rows RUN --stores DIR` (a run of scripts.bench.answers with --stores): the answered
  rows, checked against the lines they cite as the prompt showed them; grouped by the labels
  in docs/answers/judged.jsonl of `--version`, used only for rows whose citations and F1 are
  those of the labelled answer (the same answer given again).

With `--likelihood`, the same answers are measured another way, not yet a check: how much
likelier the model finds the answer after ask's instructions with its lines than with none
(log-probability gained per token of the answer; a backend that can score:
models/generator.py, `Scorer`). A made-up detail should gain little from lines that do not
hold it. Reported per group, with how often a right answer gains more than an unsupported
one (the area under the ROC curve: no threshold chosen).

    python -m scripts.bench.support --model qwen2.5-coder-1.5b --set tests/data/support_heldout.json
    python -m scripts.bench.support --model qwen2.5-coder-1.5b --rows RUN --stores DIR --version V
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from agent.answer.check import WORD_SHARE, closeness, shared_share
from agent.answer.prompt import answer_messages, memory_line
from agent.answer.schema import reply_start
from agent.answer.stated import read_stated
from agent.errors import UserError
from agent.service import Papertape
from agent.settings import load_settings
from models.generator import Scorer
from scripts.bench import common
from scripts.bench.answers import IDS_FILE
from scripts.bench.judged_rows import LABELS, by_conversation, kind_of

PROG = common.command_name(__file__)
WAYS = ("off", "unshared", "every")
Case = tuple[str, str, str, list[str]]  # group, question, answer, cited lines


def verdicts(app: Papertape, cases: Iterator[Case]) -> Counter[tuple[str, str]]:
    """For each case, whether each way lets it pass; counted by group."""
    generator = app.generator()
    threshold = app.settings.support_min_similarity
    counts: Counter[tuple[str, str]] = Counter()
    for group, question, answer, lines in cases:
        shared = shared_share(answer, question, lines) >= WORD_SHARE
        close = closeness(app.embedder, answer, question, lines) >= threshold
        started = time.perf_counter()
        stated = read_stated(generator, question, answer, lines)
        counts[("all", "ms reading")] += round((time.perf_counter() - started) * 1000)
        counts[("all", "readings")] += 1
        read = close if stated is None else stated
        passed = {"off": shared or close, "unshared": shared or read, "every": read}
        counts[(group, "answers")] += 1
        for way in WAYS:
            counts[(group, way)] += passed[way]
        print(
            f"  {group}: words {shared} close {close} stated {stated} | {answer[:50]!r}",
            file=sys.stderr,
        )
    return counts


def likelihood_gains(app: Papertape, cases: Iterator[Case]) -> list[tuple[str, float]]:
    """For each case, the log-probability per token the answer gains from its lines."""
    generator = app.generator()
    if not isinstance(generator, Scorer):
        common.refuse(PROG, f"{generator.name}'s runtime cannot score a continuation.")
    gains = []
    for group, question, answer, lines in cases:
        reply = reply_start(answer)
        given = generator.logprobs(
            generator.format_chat(answer_messages(lines, (), question)), reply
        )
        alone = generator.logprobs(generator.format_chat(answer_messages([], (), question)), reply)
        gain = (sum(given) - sum(alone)) / max(len(given), 1)
        gains.append((group, gain))
        print(f"  {group}: {gain:+.2f} a token | {answer[:50]!r}", file=sys.stderr)
    return gains


def ranked_above(higher: list[float], lower: list[float]) -> float:
    """How often a value of `higher` exceeds one of `lower`, ties counting half (the area
    under the ROC curve)."""
    pairs = [(a > b) + 0.5 * (a == b) for a in higher for b in lower]
    return sum(pairs) / len(pairs) if pairs else float("nan")


def likelihood_table(gains: list[tuple[str, float]]) -> str:
    lines = [
        "| answers | n | gain a token: median | lowest | highest |",
        "|---|---|---|---|---|",
    ]
    for group in sorted({g for g, _ in gains}):
        mine = sorted(v for g, v in gains if g == group)
        lines.append(
            f"| {group} | {len(mine)} | {statistics.median(mine):+.2f} | {mine[0]:+.2f} "
            f"| {mine[-1]:+.2f} |"
        )
    right = [v for g, v in gains if g.startswith(("right", "judged right"))]
    wrong = [
        v for g, v in gains if g.startswith(("not supported", "judged not right", "adversarial"))
    ]
    lines.append(
        f"\nA right answer gains more than a wrong or unsupported one in "
        f"{ranked_above(right, wrong):.2f} of pairs ({len(right)} against {len(wrong)})."
    )
    return "\n".join(lines)


def set_cases(items: list[dict[str, Any]]) -> Iterator[Case]:
    for item in items:
        question, notes = item["question"], item["notes"]
        yield f"right ({item['right_kind']})", question, item["right"], notes
        yield f"not supported ({item['wrong_kind']})", question, item["wrong"], notes


def row_cases(
    app: Papertape, rows: list[dict[str, Any]], labelled: dict[str, dict[str, Any]]
) -> Iterator[Case]:
    for row in rows:
        if row["status"] != "answered" or not row["citations"]:
            continue
        found = app.store.get_many(row["citations"])
        cited = [found[i] for i in row["citations"] if i in found]
        times = app.store.times_of([m.id for m in cited])
        lines = [memory_line(m, times.get(m.id)) for m in cited]
        label = labelled.get(row["id"])
        same = label is not None and (label["citations"], round(label["f1"], 6)) == (
            row["citations"],
            round(row["f1"], 6),
        )
        if row["category"] != 5 and not same:
            group = "not labelled"
        else:
            group = kind_of(row, label["label"] if label else None)
        yield group, row["question"], row["answer"], lines


def table(counts: Counter[tuple[str, str]]) -> str:
    groups = sorted({g for g, k in counts if k == "answers"})
    lines = [
        "| answers | n | pass: words, else closeness (off) | words, else the model (unshared) "
        "| the model for all (every) |",
        "|---|---|---|---|---|",
    ]
    for group in groups:
        cells = " | ".join(str(counts[(group, way)]) for way in WAYS)
        lines.append(f"| {group} | {counts[(group, 'answers')]} | {cells} |")
    if counts[("all", "readings")]:
        seconds = counts[("all", "ms reading")] / 1000 / counts[("all", "readings")]
        lines.append(f"\nThe model's reading took {seconds:.1f} s a time on average.")
    return "\n".join(lines)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def main() -> None:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="a catalogued name or a .gguf path")
    parser.add_argument("--set", type=Path, help="a support set (tests/data/support_heldout.json)")
    parser.add_argument("--rows", type=Path, help="scripts.bench.answers rows")
    parser.add_argument("--stores", type=Path, help="the rows' run's --stores DIR")
    parser.add_argument("--labels", type=Path, default=LABELS, help=f"default: {LABELS}")
    parser.add_argument("--version", help="the labels' version")
    parser.add_argument(
        "--likelihood", action="store_true", help="measure the likelihood the lines add instead"
    )
    args = parser.parse_args()
    if (args.set is None) == (args.rows is None):
        common.refuse(PROG, "give either --set FILE or --rows RUN --stores DIR.")
    if args.rows is not None and (args.stores is None or args.version is None):
        common.refuse(PROG, "--rows needs --stores DIR and the labels' --version.")
    counts: Counter[tuple[str, str]] = Counter()
    gains: list[tuple[str, float]] = []
    measure = likelihood_gains if args.likelihood else None
    with tempfile.TemporaryDirectory() as tmp:
        try:
            settings = load_settings(Path(tmp), overrides={"model": args.model}, env={})
            if args.set is not None:
                items = json.loads(common.data_file(args.set, PROG).read_text(encoding="utf-8"))
                with Papertape(settings) as app:
                    if measure:
                        gains += measure(app, set_cases(items))
                    else:
                        counts += verdicts(app, set_cases(items))
            else:
                rows = read_jsonl(args.rows)
                labelled = {
                    r["id"]: r for r in read_jsonl(args.labels) if r["version"] == args.version
                }
                for conv, conv_rows in by_conversation(rows).items():
                    home = args.stores / conv
                    if not (home / IDS_FILE).exists():
                        common.refuse(PROG, f"{home} holds no store kept by scripts.bench.answers.")
                    with Papertape(replace(settings, home=home)) as app:
                        cases = row_cases(app, conv_rows, labelled)
                        if measure:
                            gains += measure(app, cases)
                        else:
                            counts += verdicts(app, cases)
        except (OSError, ValueError) as exc:
            common.refuse(PROG, f"cannot read the answers: {exc}.")
        except UserError as exc:
            common.refuse(PROG, str(exc), exc.exit_code)
    source = f"--set {args.set}" if args.set else f"--rows {args.rows} --stores {args.stores}"
    flag = " --likelihood" if args.likelihood else ""
    print(common.header(f"{PROG} --model {args.model} {source}{flag}"))
    print(likelihood_table(gains) if args.likelihood else table(counts))


if __name__ == "__main__":
    main()
