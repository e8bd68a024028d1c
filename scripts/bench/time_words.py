#!/usr/bin/env python3
"""Time words: how often the model finds the other time a memory names, and counts it the
right way, on a labelled set in English, German and Chinese (tests/data/time_words.json).

Each case is one memory in a store of its own, said at noon on its day, read by papertape's
path (agent/memory/times.py: after worked examples, the words, then the unit, past or
future, and the count). In the same run, on the same memories, the baseline is
the reading this replaced: the same examples and fields, but the phrase may be empty. Per
variant:

- found: the share of cases naming another time for which time words were kept;
- direction: of those kept, the share counted the right way (before or after the day);
- same period: the share of cases naming another time whose kept words name the period
  expected ("last Friday" as Friday the 8th, not as the week before);
- left alone: the share of cases naming no other time for which nothing was kept.

    python -m scripts.bench.time_words --model qwen2.5-coder-1.5b [--data FILE] [--json]
        [--embedder minilm|fake]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from agent.errors import Failure, UserError
from agent.ingest.notes import NoteInput
from agent.memory.times import (
    EXAMPLES,
    NO_TIME,
    TIME_TOKENS,
    TimeReader,
    read_time,
    reading_messages,
    time_schema,
)
from agent.service import Papertape
from agent.settings import load_settings
from agent.when import named_period
from models.generator import Generator, generate
from scripts.bench import common, locomo_data
from storage import Memory, TimeWords

PROG = common.command_name(__file__)
DATA = Path(__file__).resolve().parents[2] / "tests" / "data" / "time_words.json"


# The reading this replaced: the same examples and fields, but the phrase may be empty ("")
# for a memory naming no other time.
BASELINE_INSTRUCTIONS = (
    "The user gives one memory: the day it was written or said, then what was said. "
    "Does it speak of a time other than its own day, such as "
    '"yesterday", "last week", "next month", "two years ago" or "last Saturday"? '
    'Reply in JSON: "words": that time phrase exactly as the memory writes it ("" when it '
    "names no other time: a name, a thing, a number or a feeling is not a time); "
    '"unit": "none" for none, else what that time counts in: day, week, weekend, month, '
    'year or a weekday; "when": "past" when it lies before the memory\'s day (yesterday, '
    'last, ago), "future" when it lies after (tomorrow, next); "count": how many of that '
    "unit (yesterday: 1 day; two years ago: 2 years; last Saturday: 1 saturday)."
)


def baseline_schema() -> dict[str, Any]:
    schema = time_schema()
    words = {k: v for k, v in schema["properties"]["words"].items() if k != "minLength"}
    return {**schema, "properties": {**schema["properties"], "words": words}}


def baseline_read(generator: Generator, reader: TimeReader, memory: Memory) -> TimeWords | None:
    examples = [
        (line, {**reply, "words": ""} if reply["unit"] == NO_TIME else reply)
        for line, reply in EXAMPLES
    ]
    messages = reading_messages(reader.shown(memory), BASELINE_INSTRUCTIONS, examples)
    prompt = generator.format_chat(messages)
    raw = generate(generator, prompt, max_tokens=TIME_TOKENS, schema=baseline_schema())
    return read_time(raw, memory.text)


def sign(offset: int) -> int:
    return (offset > 0) - (offset < 0)


def score(rows: list[dict[str, Any]], variant: str) -> dict[str, Any]:
    timed = [r for r in rows if r["expect"] is not None]
    plain = [r for r in rows if r["expect"] is None]
    kept = [r for r in timed if r[variant] is not None]
    return {
        "timed": len(timed),
        "plain": len(plain),
        "found": len(kept) / len(timed) if timed else 0.0,
        "direction": (
            sum(sign(r[variant]["offset"]) == sign(r["expect"]["offset"]) for r in kept) / len(kept)
            if kept
            else 0.0
        ),
        "same_period": (
            sum(r[f"{variant}_period_right"] for r in timed) / len(timed) if timed else 0.0
        ),
        "left_alone": sum(r[variant] is None for r in plain) / len(plain) if plain else 0.0,
    }


def authored_cases(data: Path) -> list[dict[str, Any]]:
    cases = json.loads(data.read_text(encoding="utf-8"))["cases"]
    return [
        {
            "id": case["id"],
            "group": "authored",
            "text": case["text"],
            "said": datetime.fromisoformat(case["said"]).replace(hour=12).timestamp(),
            "expect": case["expect"],
        }
        for case in cases
    ]


def chat_cases(path: Path, turns: int, seed: int) -> list[dict[str, Any]]:
    """`turns` chat lines a "when" question (LoCoMo's category 2) rests on, most of which
    name another time, and `turns` other lines, most of which do not; unlabelled, for
    reading what each variant kept."""
    evidence: list[dict[str, Any]] = []
    other: list[dict[str, Any]] = []
    for conv in locomo_data.load(path):
        asked_when = {e for q in conv.questions if q.category == 2 for e in q.evidence}
        for turn in conv.turns:
            group = "when evidence" if turn.dia_id in asked_when else "other turn"
            case = {
                "id": f"{conv.sample_id}:{turn.dia_id}",
                "group": group,
                "text": turn.text,
                "said": turn.occurred_at,
                "expect": None,
            }
            (evidence if turn.dia_id in asked_when else other).append(case)
    draw = random.Random(seed)
    return draw.sample(evidence, min(turns, len(evidence))) + draw.sample(
        other, min(turns, len(other))
    )


def run(model: str, cases: list[dict[str, Any]], embedder: str) -> dict[str, Any]:
    rows = []
    seconds = {"papertape": 0.0, "baseline": 0.0}
    with tempfile.TemporaryDirectory() as tmp:
        overrides = {"model": model, "embedder": embedder}
        settings = load_settings(Path(tmp), overrides=overrides, env={})
        with Papertape(settings) as app:
            generator = app.generator()
            reader = TimeReader(app.store, generator)
            memories = []
            for case in cases:
                said = case["said"]
                (result,) = app.note_many([NoteInput(case["text"], said, "bench")], now=said)
                memory = app.store.get(result.memory_id) if result.memory_id else None
                if memory is None:
                    raise Failure(f"case {case['id']} was not stored")
                memories.append(memory)
            # Each variant reads every memory in turn, so each keeps its own instructions in
            # the runtime's prompt cache, as a consolidation run does.
            readings: dict[str, list[TimeWords | None]] = {}
            for variant, read in (
                ("papertape", reader.read),
                ("baseline", lambda m: baseline_read(generator, reader, m)),
            ):
                start = time.perf_counter()
                readings[variant] = [read(memory) for memory in memories]
                seconds[variant] = time.perf_counter() - start
            for index, (case, memory) in enumerate(zip(cases, memories, strict=True)):
                said = memory.occurred_at
                expect = case["expect"]
                wanted = (
                    named_period(TimeWords(expect["words"], expect["unit"], expect["offset"]), said)
                    if expect
                    else None
                )
                row: dict[str, Any] = {
                    "id": case["id"],
                    "group": case["group"],
                    "text": case["text"],
                    "expect": expect,
                }
                for variant, got_all in readings.items():
                    got = got_all[index]
                    row[variant] = (
                        None
                        if got is None
                        else {"words": got.words, "unit": got.unit, "offset": got.offset}
                    )
                    period = named_period(got, said) if got is not None else None
                    row[f"{variant}_period"] = period
                    row[f"{variant}_period_right"] = wanted is not None and period == wanted
                rows.append(row)
                print(
                    f"  {case['id']}: expected {wanted}; papertape {row['papertape_period']}; "
                    f"baseline {row['baseline_period']}",
                    file=sys.stderr,
                )
    authored = [r for r in rows if r["group"] == "authored"]
    chat = {
        group: {
            variant: sum(r[variant] is not None for r in rows if r["group"] == group)
            for variant in ("papertape", "baseline")
        }
        | {"turns": sum(r["group"] == group for r in rows)}
        for group in ("when evidence", "other turn")
    }
    return {
        "model": model,
        "cases": len(rows),
        "papertape": score(authored, "papertape"),
        "baseline": score(authored, "baseline"),
        "chat_kept": chat,
        "seconds_per_memory": {k: v / max(1, len(rows)) for k, v in seconds.items()},
        "rows": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="a catalogued name or a .gguf path")
    parser.add_argument("--data", type=Path, default=DATA, help=f"cases (default: {DATA})")
    parser.add_argument(
        "--embedder", default="minilm", help="how the notes are embedded (fake: for tests)"
    )
    parser.add_argument(
        "--chat",
        type=Path,
        help="also read real chat lines from this LoCoMo-schema file (unlabelled: read them)",
    )
    parser.add_argument(
        "--turns", type=int, default=80, help="with --chat: lines of each group (default 80)"
    )
    parser.add_argument("--seed", type=int, default=33, help="with --chat: the draw's seed")
    parser.add_argument("--json", action="store_true", help="print the whole result as JSON")
    args = parser.parse_args()
    for path in (args.data, args.chat):
        if path is not None and not path.is_file():
            common.refuse(PROG, f"{path} is not a file.")
    if args.turns < 1:
        common.refuse(PROG, "--turns must be at least 1.")
    try:
        cases = authored_cases(args.data)
        if args.chat is not None:
            cases += chat_cases(args.chat, args.turns, args.seed)
        result = run(args.model, cases, args.embedder)
    except (UserError, Failure) as exc:
        common.refuse(PROG, str(exc), exc.exit_code)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
        return
    print(f"{result['cases']} cases, model {args.model}")
    print("| variant | found | direction right | same period | left alone | s a memory |")
    print("|---|---|---|---|---|---|")
    for variant in ("papertape", "baseline"):
        s = result[variant]
        print(
            f"| {variant} | {s['found']:.2f} | {s['direction']:.2f} | {s['same_period']:.2f} "
            f"| {s['left_alone']:.2f} | {result['seconds_per_memory'][variant]:.1f} |"
        )
    ours, theirs = result["papertape"]["same_period"], result["baseline"]["same_period"]
    print(f"same period, papertape / baseline: {ours / theirs if theirs else float('inf'):.2f}x")
    for group, kept in result["chat_kept"].items():
        if kept["turns"]:
            print(
                f"chat lines, {group}: time words kept for {kept['papertape']} of "
                f"{kept['turns']} (baseline {kept['baseline']})"
            )


if __name__ == "__main__":
    main()
