"""The person check on answers already given and judged: what it marks by words alone, and
with the model's reading of whose lines (agent/answer/whose.py).

An answer about one person that rests on another's lines should be marked; an answer judged
right should not. This re-runs the checks `ask` runs after an answer, on each answered row
of a run of `scripts.bench.answers --stores DIR` (the rows hold the answers and citations,
the kept stores the lines and who said them), and counts what each marks among adversarial
answers, answers judged right and those judged not right, by the labels in
docs/answers/judged.jsonl. The answers are not asked again: the checks only add marks, so
the words stay the judged ones. The model's reading is counted twice: asked only where
someone else's lines name the person, and asked for every answer whose question names one
known speaker and whose lines the words did not already mark. Answers the support check
marks as not held by what they cite are counted apart, with how many the person check would
also mark as not the person's.

    python -m scripts.bench.whose --model qwen2.5-coder-1.5b --rows RUN.jsonl --stores DIR
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

from agent.answer.check import is_supported
from agent.answer.prompt import memory_line
from agent.answer.whose import check_person, read_whose, someone_else
from agent.errors import UserError
from agent.people import asked_about
from agent.service import Papertape
from agent.settings import load_settings
from models.generator import Generator
from scripts.bench import common
from scripts.bench.answers import IDS_FILE
from scripts.bench.judged_rows import KINDS, LABELS, by_conversation, kind_of, read_judged

PROG = common.command_name(__file__)


def check_rows(
    app: Papertape, generator: Generator, rows: list[dict[str, Any]], labels: dict[str, str]
) -> Counter[tuple[str, str]]:
    """For each answered row whose question names one known speaker: marked by the
    words-only check, and the model's reading of whose the lines are, asked both where
    `ask` asks it (someone else's lines naming the person) and everywhere the words did not
    mark; counted by kind."""
    counts: Counter[tuple[str, str]] = Counter()
    people = app.store.speaker_names()
    for row in rows:
        if row["status"] != "answered" or not row["citations"]:
            continue
        kind = kind_of(row, labels.get(row["id"]))
        counts[(kind, "answered")] += 1
        found = app.store.get_many(row["citations"])
        cited = [found[i] for i in row["citations"] if i in found]
        times = app.store.times_of([m.id for m in cited])
        lines = [memory_line(m, times.get(m.id)) for m in cited]
        question, answer = row["question"], row["answer"]
        threshold = app.settings.support_min_similarity
        texts = {m.id: m.text for m in cited}
        speakers = app.store.speakers_of(list(texts))
        check = check_person(generator, question, answer, texts, lines, speakers, people)
        if not is_supported(app.embedder, answer, question, lines, min_similarity=threshold):
            # Marked as not held by what it cites; is it also marked as not the person's?
            counts[(kind, "unsupported")] += 1
            counts[(kind, "unsupported, not theirs")] += check.not_of is not None
            continue
        person = asked_about(question, people)
        if check.not_of is not None and not check.asked:
            counts[(kind, "words")] += 1
            continue
        if check.asked:  # `ask` asked the model: someone else's lines name the person
            marked, who = check.not_of is not None, check.told_of
            counts[(kind, "asked")] += 1
            counts[(kind, "model")] += marked
        elif person is not None:  # `ask` trusts these lines' words
            started = time.perf_counter()
            who = someone_else(read_whose(generator, question, answer, lines), person, people)
            counts[("all", "ms reading")] += round((time.perf_counter() - started) * 1000)
            marked = who is not None
        else:
            continue
        counts[(kind, "asked everywhere")] += 1
        counts[(kind, "model everywhere")] += marked
        print(f"  {row['id']} {kind}: asked by ask {check.asked}, told of {who}", file=sys.stderr)
    return counts


def table(counts: Counter[tuple[str, str]]) -> str:
    lines = [
        "| answers | answered | marked by words | model asked where others' lines name the "
        "person | marked, words or model | model asked wherever words did not mark | "
        "marked, words or model | not held by what they cite | of those, not the person's |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for kind in KINDS:
        words_only = counts[(kind, "words")]
        lines.append(
            f"| {kind} | {counts[(kind, 'answered')]} | {words_only} | "
            f"{counts[(kind, 'asked')]} | {words_only + counts[(kind, 'model')]} | "
            f"{counts[(kind, 'asked everywhere')]} | "
            f"{words_only + counts[(kind, 'model everywhere')]} | "
            f"{counts[(kind, 'unsupported')]} | {counts[(kind, 'unsupported, not theirs')]} |"
        )
    extra = sum(counts[(kind, "asked everywhere")] - counts[(kind, "asked")] for kind in KINDS)
    if extra:
        seconds = counts[("all", "ms reading")] / 1000 / extra
        lines.append(f"\nThe model's reading took {seconds:.1f} s a time on average.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="a catalogued name or a .gguf path")
    parser.add_argument("--rows", type=Path, required=True, help="scripts.bench.answers rows")
    parser.add_argument("--stores", type=Path, required=True, help="the run's --stores DIR")
    parser.add_argument("--labels", type=Path, default=LABELS, help=f"default: {LABELS}")
    parser.add_argument("--version", default=None, help="the labels' version (default: the rows')")
    args = parser.parse_args()
    rows, labels, version = read_judged(args.rows, args.labels, args.version, PROG)
    counts: Counter[tuple[str, str]] = Counter()
    with tempfile.TemporaryDirectory() as tmp:
        try:
            settings = load_settings(Path(tmp), overrides={"model": args.model}, env={})
        except UserError as exc:
            common.refuse(PROG, str(exc), exc.exit_code)
        for conv, conv_rows in by_conversation(rows).items():
            home = args.stores / conv
            if not (home / IDS_FILE).exists():
                common.refuse(
                    PROG, f"{home} holds no store kept by scripts.bench.answers --stores."
                )
            try:
                with Papertape(replace(settings, home=home)) as app:
                    counts += check_rows(app, app.generator(), conv_rows, labels)
            except UserError as exc:
                common.refuse(PROG, str(exc), exc.exit_code)
    print(common.header(f"{PROG} --model {args.model} --rows {args.rows} --stores {args.stores}"))
    print(f"labels: {args.labels} version {version}\n")
    print(table(counts))


if __name__ == "__main__":
    main()
