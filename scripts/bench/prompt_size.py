#!/usr/bin/env python3
"""Time to the first answer token against the prompt's size, to choose `prompt_tokens`.

Prompts are `ask`'s own (instructions, memory lines from LoCoMo, a question), cut to each
size, each with a different first line so the runtime's prompt cache cannot help; the answer
is generated under the answer schema. Prints, per size, the median time to the first token
over --repeat runs and its ratio to the smallest size.

    python -m scripts.bench.prompt_size --model qwen2.5-coder-1.5b [--sizes 256,512,1024,1536,2048]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from agent.answer.prompt import fit_prompt
from agent.answer.schema import answer_schema
from agent.service import Papertape
from agent.settings import load_settings
from scripts.bench import common
from scripts.bench.locomo_data import load
from storage import Memory

PROG = common.command_name(__file__)


def main() -> None:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    common.add_data_option(parser)
    parser.add_argument("--model", required=True)
    parser.add_argument("--sizes", default="256,512,768,1024,1536,2048")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    try:
        sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    except ValueError:
        common.refuse(PROG, f"--sizes takes numbers separated by commas; got {args.sizes!r}.")
    conv = load(common.data_file(args.data, PROG))[0]
    lines = [
        Memory(
            id=i + 1,
            tier="sharp",
            kind="text",
            source="locomo",
            occurred_at=turn.occurred_at,
            ingested_at=turn.occurred_at,
            content_hash=str(i),
            text=turn.text,
            importance=0.5,
            strength=7.0,
            last_recalled_at=None,
            recall_count=0,
            pinned=False,
            vector_bytes=0,
        )
        for i, turn in enumerate(conv.turns)
    ]
    print(common.header("python -m scripts.bench.prompt_size " + " ".join(sys.argv[1:])))
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            Path(tmp), overrides={"model": args.model, "context_tokens": 4096}, env={}
        )
        with Papertape(settings) as app:
            generator = app.generator()
            print(f"model: {generator.name}\n")
            print("| prompt tokens | time to first token, s (median) | ratio to smallest |")
            print("|---|---|---|")
            base = None
            run = 0
            for size in sizes:
                times = []
                for _ in range(args.repeat):
                    run += 1
                    # A different first memory each run: nothing is reused from the cache.
                    shown = lines[run:] + lines[:run]
                    question = conv.questions[run % len(conv.questions)].question
                    fitted = fit_prompt(
                        generator, question, shown, [], answer_tokens=64, prompt_tokens=size
                    )
                    schema = answer_schema([m.id for m in fitted.memories])
                    started = time.perf_counter()
                    for _piece in generator.stream(fitted.prompt, max_tokens=1, schema=schema):
                        break
                    times.append(time.perf_counter() - started)
                median = statistics.median(times)
                base = base or median
                print(f"| {fitted.tokens} | {median:.2f} | {median / base:.2f} |")


if __name__ == "__main__":
    main()
