#!/usr/bin/env python3
"""Time words: how often the model finds the other time a memory names, and counts it the
right way, on a labelled set in English, German and Chinese (tests/data/time_words.json).

Each case is one memory in a store of its own, said at noon on its day, read by papertape's
path (agent/memory/times.py: after worked examples, the words, then the unit, past or
future, and the count). In the same run, on the same memories, the baseline is
the reading this replaced: the unit first, "before" or "after", no examples. Per variant:

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
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from agent.errors import Failure, UserError
from agent.ingest.notes import NoteInput
from agent.memory.times import TIME_TOKENS, TimeReader, read_time, time_schema
from agent.service import Papertape
from agent.settings import load_settings
from agent.when import named_period
from models.generator import ChatMessage, Generator, generate
from scripts.bench import common
from storage import Memory, TimeWords

PROG = common.command_name(__file__)
DATA = Path(__file__).resolve().parents[2] / "tests" / "data" / "time_words.json"


# The reading this replaced: the unit first, "before" or "after", no worked examples.
BASELINE_INSTRUCTIONS = (
    "The user gives one memory: the day it was written or said, then what was said. "
    "Does it speak of a time other than its own day, such as "
    '"yesterday", "last week", "next month", "two years ago" or "last Saturday"? '
    'Reply in JSON: "unit": "none" when it names no other time (a name, a thing, a number '
    "or a feeling is not a time); else what that time counts in: day, week, weekend, month, "
    'year or a weekday; "words": that time phrase exactly as the memory writes it ("" for '
    'none); "direction": "before" when it lies before the memory\'s day (yesterday, last, '
    'ago), "after" when it lies after (tomorrow, next); "count": how many of that unit '
    "(yesterday: 1 day; two years ago: 2 years; last Saturday: 1 saturday)."
)
BASELINE_DIRECTIONS = {"before": "past", "after": "future", "none": "none"}


def baseline_schema() -> dict[str, Any]:
    properties = time_schema()["properties"]
    return {
        "type": "object",
        "properties": {
            "unit": properties["unit"],
            "words": properties["words"],
            "direction": {"enum": list(BASELINE_DIRECTIONS)},
            "count": properties["count"],
        },
        "required": ["unit", "words", "direction", "count"],
        "additionalProperties": False,
    }


def baseline_read(generator: Generator, reader: TimeReader, memory: Memory) -> TimeWords | None:
    prompt = generator.format_chat(
        [ChatMessage("system", BASELINE_INSTRUCTIONS), ChatMessage("user", reader.shown(memory))]
    )
    raw = generate(generator, prompt, max_tokens=TIME_TOKENS, schema=baseline_schema())
    try:
        data = json.loads(raw, strict=False)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    data["when"] = BASELINE_DIRECTIONS.get(str(data.pop("direction", "")), "")
    return read_time(json.dumps(data), memory.text)


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


def run(model: str, data: Path, embedder: str) -> dict[str, Any]:
    cases = json.loads(data.read_text(encoding="utf-8"))["cases"]
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
                said = datetime.fromisoformat(case["said"]).replace(hour=12).timestamp()
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
                row: dict[str, Any] = {"id": case["id"], "text": case["text"], "expect": expect}
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
    return {
        "model": model,
        "data": str(data),
        "cases": len(rows),
        "papertape": score(rows, "papertape"),
        "baseline": score(rows, "baseline"),
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
    parser.add_argument("--json", action="store_true", help="print the whole result as JSON")
    args = parser.parse_args()
    if not args.data.is_file():
        common.refuse(PROG, f"{args.data} is not a file.")
    try:
        result = run(args.model, args.data, args.embedder)
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


if __name__ == "__main__":
    main()
