#!/usr/bin/env python3
"""Time words: how often the model finds the other time a memory names, and counts it the
right way, on a labelled set in English, German and Chinese (tests/data/time_words.json).

Each case is one memory in a store of its own, said at noon on its day, read by papertape's
path (agent/memory/times.py: the unit, "none" first, then the words, before or after, and
the count). In the same run, on the same memories, the baseline asks for the unit first and
a signed offset (the schema this replaced). Per variant:

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
from agent.memory.times import WORDS_MAX_CHARS, TimeReader
from agent.service import Papertape
from agent.settings import load_settings
from agent.when import named_period
from models.generator import ChatMessage, Generator, generate
from scripts.bench import common
from storage import TIME_UNITS, Memory, TimeWords

PROG = common.command_name(__file__)
DATA = Path(__file__).resolve().parents[2] / "tests" / "data" / "time_words.json"

BASELINE_INSTRUCTIONS = (
    "The user gives one memory: the day it was written or said, then what was said. "
    "Does it speak of a time other than its own day, such as "
    '"yesterday", "last week", "next month", "two years ago" or "last Saturday"? '
    'Reply in JSON: "unit": none when it does not; else day, week, weekend, month, year, '
    'or a weekday; "offset": how many of that unit before (negative) or after (positive) '
    "the memory's day: yesterday is day -1, tomorrow day 1, last week week -1, next month "
    "month 1, two years ago year -2, last Saturday saturday -1, this weekend weekend 0; "
    '"words": the time phrase exactly as the memory writes it ("" for none).'
)
BASELINE_SCHEMA = {
    "type": "object",
    "properties": {
        "unit": {"enum": ["none", *TIME_UNITS]},
        "offset": {"enum": list(range(-9, 10))},
        "words": {"type": "string", "maxLength": WORDS_MAX_CHARS},
    },
    "required": ["unit", "offset", "words"],
    "additionalProperties": False,
}


def baseline_read(generator: Generator, reader: TimeReader, memory: Memory) -> TimeWords | None:
    prompt = generator.format_chat(
        [ChatMessage("system", BASELINE_INSTRUCTIONS), ChatMessage("user", reader.shown(memory))]
    )
    raw = generate(generator, prompt, max_tokens=160, schema=BASELINE_SCHEMA)
    try:
        data = json.loads(raw, strict=False)
    except ValueError:
        return None
    words = " ".join(str(data.get("words", "")).split())
    unit, offset = data.get("unit"), data.get("offset")
    if unit not in TIME_UNITS or not words or words.casefold() not in memory.text.casefold():
        return None
    if not isinstance(offset, int) or (offset == 0 and unit in ("day", "week", "month", "year")):
        return None
    return TimeWords(words, unit, offset)


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
            for case in cases:
                said = datetime.fromisoformat(case["said"]).replace(hour=12).timestamp()
                (result,) = app.note_many([NoteInput(case["text"], said, "bench")], now=said)
                memory = app.store.get(result.memory_id) if result.memory_id else None
                if memory is None:
                    raise Failure(f"case {case['id']} was not stored")
                start = time.perf_counter()
                ours = reader.read(memory)
                seconds["papertape"] += time.perf_counter() - start
                start = time.perf_counter()
                theirs = baseline_read(generator, reader, memory)
                seconds["baseline"] += time.perf_counter() - start
                expect = case["expect"]
                wanted = (
                    named_period(TimeWords(expect["words"], expect["unit"], expect["offset"]), said)
                    if expect
                    else None
                )
                row: dict[str, Any] = {"id": case["id"], "text": case["text"], "expect": expect}
                for variant, got in (("papertape", ours), ("baseline", theirs)):
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
