"""Is the answer theirs? The model's own likelihood of its answer when its question names
someone else, measured on answers already given and judged. Not used by `ask`: on LoCoMo the
1.5B's likelihood barely moves with the name (docs/BENCHMARKS.md).

A small model asked what one person did answers from another person's lines, and the words
cannot always tell: the person asked about often echoes the other's news in a reply ("Your
charity race sounds great!"), so the lines hold the answer's words and are said by them.
The model that wrote the answer can say, without writing anything, how likely it finds it
(models/generator.py, `Scorer`). Asked the same question about another person the cited
lines are said by or name, an answer drawn from that person's lines should become likelier;
an answer that is the asked person's should not. So the question and the answer are given
again with the name swapped as whole words (`swap_name`: no language's vocabulary), and the
answer's log-probability is read under both.

For each row of a run of `scripts.bench.answers --stores DIR` whose question names one
known speaker, the prompt `ask` built is built again from the kept store (recall, the
memories' time words, the same budget; a when-question's pick of lines is not made again),
and the answer's gain is read for each other person its cited lines are said by or name.
It counts, by the labels in docs/answers/judged.jsonl, adversarial answers declined as
judged and declined once marked, and answers judged right that would be marked, at each
margin of MARGINS. The answers are not asked again: the check would only add a mark.

    python -m scripts.bench.swap --model qwen2.5-coder-1.5b --rows RUN.jsonl --stores DIR
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from agent.answer.prompt import fit_prompt
from agent.answer.schema import reply_start
from agent.answer.session import ChatSession
from agent.errors import UserError
from agent.people import asked_about
from agent.service import Papertape
from agent.settings import load_settings
from agent.words import words
from models.generator import ChatMessage, Generator, Scorer
from scripts.bench import common
from scripts.bench.answers import DAY, IDS_FILE
from scripts.bench.judged_rows import KINDS, LABELS, by_conversation, kind_of, read_judged
from scripts.bench.locomo_data import load

PROG = common.command_name(__file__)
MARGINS = (0.0, 1.0, 2.0, 4.0)


@dataclass(frozen=True)
class Likelier:
    other: str  # the person the answer is likelier about
    gain: float  # how much likelier, in nats (log-probability, natural log)


def swap_name(text: str, person: str, other: str) -> str:
    """`text` with each whole-word occurrence of `person` written as `other`. In a script
    written without spaces a name has no word edges, so every occurrence is swapped."""
    if not person:
        return text
    if words(person) and all(len(w) == 1 and not w.isascii() for w in words(person)):
        return text.replace(person, other)
    return re.sub(rf"(?<!\w){re.escape(person)}(?!\w)", lambda _: other, text)


def others_in(
    person: str,
    cited: Mapping[int, str],
    speakers: Mapping[int, str],
    people: Sequence[str],
) -> list[str]:
    """The known people other than `person` whom the cited lines are said by or name."""
    named = set().union(*(words(text) for text in cited.values())) if cited else set()
    found = [
        p
        for p in people
        if p != person and (p in speakers.values() or (words(p) and words(p) <= named))
    ]
    return sorted(found)


def answer_logprob(
    scorer: Scorer, generator: Generator, messages: Sequence[ChatMessage], answer: str
) -> float:
    return sum(scorer.logprobs(generator.format_chat(messages), reply_start(answer)))


def likeliest_other(
    scorer: Scorer,
    generator: Generator,
    messages: Sequence[ChatMessage],
    answer: str,
    person: str,
    others: Iterable[str],
) -> Likelier | None:
    """The other person the answer is likeliest about, and how much likelier than about
    `person` (below zero: less likely); None when there is no one else. `messages` is the
    answer's prompt, its last message the question."""
    *before, question = messages
    asked = answer_logprob(scorer, generator, messages, answer)
    best: Likelier | None = None
    for other in others:
        moved = [*before, ChatMessage(question.role, swap_name(question.content, person, other))]
        gain = answer_logprob(scorer, generator, moved, swap_name(answer, person, other)) - asked
        if best is None or gain > best.gain:
            best = Likelier(other, gain)
    return best


def gains(app: Papertape, rows: list[dict[str, Any]], now: float) -> list[dict[str, Any]]:
    """For each answered row about one known speaker: the answer's best gain in
    log-probability when asked about another person (below zero: less likely), or None
    when the rebuilt prompt did not show what the answer cites or its lines are said by and
    name no one else."""
    generator = app.generator()
    if not isinstance(generator, Scorer):
        common.refuse(PROG, f"{generator.name}'s runtime cannot score a continuation.")
    people = app.store.speaker_names()
    out: list[dict[str, Any]] = []
    for row in rows:
        person = asked_about(row["question"], people)
        if row["status"] != "answered" or not row["citations"] or person is None:
            continue
        session = ChatSession(app.store, app.embedder, generator, app.settings, remember=False)
        evidence = session.evidence(row["question"], now)
        fitted = fit_prompt(
            generator,
            row["question"],
            evidence,
            [],
            answer_tokens=app.settings.answer_tokens,
            prompt_tokens=app.settings.prompt_tokens,
            times=app.store.times_of([m.id for m in evidence]),
        )
        shown = {m.id: m for m in fitted.memories}
        if not set(row["citations"]) <= set(shown):
            out.append({"row": row, "gain": None, "other": None})
            continue
        cited = {i: shown[i].text for i in row["citations"]}
        others = others_in(person, cited, app.store.speakers_of(list(cited)), people)
        started = time.perf_counter()
        found = likeliest_other(
            generator, generator, fitted.messages, row["answer"], person, others
        )
        seconds = time.perf_counter() - started
        if found is None:  # the lines are said by and name no one else
            out.append({"row": row, "gain": None, "other": None})
            continue
        out.append({"row": row, "gain": found.gain, "other": found.other, "s": seconds})
        print(f"  {row['id']} c{row['category']} gain {found.gain:+.2f}", file=sys.stderr)
    return out


def table(results: list[dict[str, Any]], labels: dict[str, str]) -> str:
    lines = [
        "| answers | about one speaker | read | declined as judged | "
        + " | ".join(f"marked, gain > {m:g}" for m in MARGINS)
        + " |",
        "|---|---|---|---|" + "---|" * len(MARGINS),
    ]
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for result in results:
        by_kind[kind_of(result["row"], labels.get(result["row"]["id"]))].append(result)
    for kind in KINDS:
        mine = by_kind.get(kind, [])
        rebuilt = [r for r in mine if r["gain"] is not None]
        declined = sum(labels.get(r["row"]["id"]) == "CORRECT" for r in rebuilt)
        cells = []
        for margin in MARGINS:
            marked = [r for r in rebuilt if r["gain"] > margin]
            if kind == "adversarial":
                newly = sum(labels.get(r["row"]["id"]) != "CORRECT" for r in marked)
                cells.append(f"{len(marked)} ({declined + newly} declined)")
            else:
                cells.append(str(len(marked)))
        shown_declined = str(declined) if kind == "adversarial" else "-"
        lines.append(
            f"| {kind} | {len(mine)} | {len(rebuilt)} | {shown_declined} | "
            + " | ".join(cells)
            + " |"
        )
    seconds = [r["s"] for r in results if r.get("s") is not None]
    if seconds:
        lines.append(f"\nThe readings took {sum(seconds) / len(seconds):.1f} s an answer.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    common.add_data_option(parser)
    parser.add_argument("--model", required=True, help="a catalogued name or a .gguf path")
    parser.add_argument("--rows", type=Path, required=True, help="scripts.bench.answers rows")
    parser.add_argument("--stores", type=Path, required=True, help="the run's --stores DIR")
    parser.add_argument("--labels", type=Path, default=LABELS, help=f"default: {LABELS}")
    parser.add_argument("--version", default=None, help="the labels' version (default: the rows')")
    parser.add_argument("--out", type=Path, default=None, help="write each row's gain here")
    args = parser.parse_args()
    rows, labels, version = read_judged(args.rows, args.labels, args.version, PROG)
    try:
        conversations = {c.sample_id: c for c in load(common.data_file(args.data, PROG))}
    except (OSError, ValueError, KeyError) as exc:
        common.refuse(PROG, f"{args.data} does not follow LoCoMo's schema ({exc}).")
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            settings = load_settings(Path(tmp), overrides={"model": args.model}, env={})
            for conv, conv_rows in by_conversation(rows).items():
                home = args.stores / conv
                if not (home / IDS_FILE).exists() or conv not in conversations:
                    common.refuse(PROG, f"{home} holds no store kept by scripts.bench.answers.")
                now = conversations[conv].turns[-1].occurred_at + DAY
                with Papertape(replace(settings, home=home)) as app:
                    results += gains(app, conv_rows, now)
        except UserError as exc:
            common.refuse(PROG, str(exc), exc.exit_code)
    if args.out is not None:
        with args.out.open("w", encoding="utf-8") as out:
            for r in results:
                row = r["row"]
                out.write(json.dumps({"id": row["id"], "gain": r["gain"], "other": r["other"]}))
                out.write("\n")
    print(common.header(f"{PROG} --model {args.model} --rows {args.rows} --stores {args.stores}"))
    print(f"labels: {args.labels} version {version}\n")
    print(table(results, labels))


if __name__ == "__main__":
    main()
