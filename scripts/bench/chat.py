#!/usr/bin/env python3
"""`ask` against raw llama-cpp-python given the same final prompt and model, in the same run.

A store of 10,000 memories (LoCoMo turns with their real MiniLM vectors, topped up with noisy
copies, plus a few planted facts) is built once. Then, for each model, in a child process of
its own (so its peak RSS is its own):

- ask:  papertape's ChatSession.ask: recall, fit the prompt, stream, cite. Its time to first
        token is measured from the question, so it includes retrieval.
- raw:  a second llama_cpp.Llama on the same file, same context and threads, fed the exact
        token list ask's prompt became, same greedy decoding under the same answer schema.

The two alternate question by question, each with its own key/value cache, so both get the
same chances of prefix reuse. Targets: ask's time to first token <= 1.15 x raw + retrieval;
retrieval under 100 ms at 10k memories.

    python -m scripts.bench.chat [--models smollm2-135m,qwen2.5-coder-0.5b] [--home DIR]
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from agent.answer.schema import answer_schema
from agent.answer.session import ChatSession
from agent.service import Papertape
from agent.settings import load_settings
from models import load_embedder
from scripts.bench import common
from scripts.bench.locomo_data import load

PROG = common.command_name(__file__)

T0 = 1_700_000_000.0
SIZE = 10_000
PLANTED = [
    ("My locker code at the gym is 4411.", "What is my locker code?"),
    ("The wifi network at the cabin is called bluefinch.", "What is the cabin wifi called?"),
    ("Parked the car on level 3, spot C14.", "Where did I park the car?"),
    ("My passport expires in August 2031.", "When does my passport expire?"),
    ("Dr. Okafor said to take the antibiotics twice a day.", "How often do I take antibiotics?"),
    ("The plumber Marek comes on Thursday at 9am.", "When is the plumber coming?"),
]
LOCOMO_QUESTIONS = 6


def build_store(home: Path, data: Path) -> list[str]:
    """Fill `home` with SIZE memories; return the questions to ask."""
    conversations = load(data)
    texts = list(dict.fromkeys(t.text for c in conversations for t in c.turns))
    questions = [q.question for c in conversations for q in c.questions][:LOCOMO_QUESTIONS]
    embedder = load_embedder("minilm")
    vectors = embedder.embed(texts)
    with Papertape(load_settings(home, env={}), embedder=embedder) as app:
        common.fill_with_copies(app.store, texts, vectors, SIZE - len(PLANTED), T0)
        for fact, _ in PLANTED:
            app.note(fact, now=T0 + SIZE)
        app.store.checkpoint()
        assert app.stats().memories == SIZE
    return [q for _, q in PLANTED] + questions


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def raw_stream(
    llm, tokens: list[int], max_tokens: int, schema: dict
) -> tuple[str, float | None, float]:  # type: ignore[no-untyped-def]
    """Text, seconds to the first token and seconds in all, from raw llama-cpp-python."""
    from llama_cpp.llama_grammar import LlamaGrammar

    start = time.perf_counter()
    first = None
    pieces = []
    grammar = LlamaGrammar.from_json_schema(json.dumps(schema), verbose=False)
    for chunk in llm.create_completion(
        tokens,
        max_tokens=max_tokens,
        temperature=0.0,
        repeat_penalty=1.0,
        stream=True,
        grammar=grammar,
    ):
        text = chunk["choices"][0]["text"]
        if text and first is None and text.strip():
            first = time.perf_counter() - start
        pieces.append(text)
    return "".join(pieces), first, time.perf_counter() - start


def run_model(home: Path, model: str, questions: list[str]) -> dict:
    import llama_cpp

    embedder = load_embedder("minilm")
    app = Papertape(load_settings(home, env={}), embedder=embedder)
    loaded = app.model(model)
    generator = loaded.generator
    limit = app.settings.answer_tokens

    def session() -> ChatSession:
        return ChatSession(app.store, embedder, generator, app.settings, remember=False)

    session().ask("What did I do last weekend?", now=T0 + SIZE + 60)  # warm the page cache
    rss_ask = peak_rss_mb()
    raw = llama_cpp.Llama(
        model_path=str(loaded.path),
        n_ctx=loaded.plan.context_tokens,
        n_threads=loaded.plan.threads,
        n_threads_batch=loaded.plan.threads,
        n_batch=512,
        verbose=False,
    )
    rows = []
    for question in questions:
        answer = session().ask(question, now=T0 + SIZE + 60)
        if answer.ttft_s is None:  # no memories shown, the model not asked: nothing to compare
            rows.append({"question": question, "skipped": True})
            continue
        tokens = generator.tokenize(answer.prompt)  # type: ignore[attr-defined]
        schema = answer_schema([m.id for m in answer.memories])
        raw_text, raw_ttft, raw_total = raw_stream(raw, tokens, limit, schema)
        raw_tokens = generator.count_tokens(raw_text.strip()) if raw_text.strip() else 0
        raw_speed = (
            (raw_tokens - 1) / (raw_total - raw_ttft) if raw_ttft and raw_tokens > 1 else None
        )
        same = raw_text.strip() == answer.raw_reply.strip()
        rows.append(
            {
                "question": question,
                "prompt_tokens": answer.prompt_tokens,
                "retrieval_s": answer.retrieval_s,
                "ask_ttft_s": answer.ttft_s,
                "raw_ttft_s": raw_ttft,
                "ask_tokens_per_s": answer.tokens_per_s,
                "raw_tokens_per_s": raw_speed,
                "same_text": same,
                "answer": answer.text[:80],
            }
        )
    return {"model": model, "plan": list(loaded.plan.reasons), "rss_ask_mb": rss_ask, "rows": rows}


def summarise(result: dict) -> list[str]:
    rows = [r for r in result["rows"] if not r.get("skipped")]
    p50 = common.percentile
    retrieval = [1000 * r["retrieval_s"] for r in rows]
    ask = [r["ask_ttft_s"] for r in rows]
    raw = [r["raw_ttft_s"] for r in rows if r["raw_ttft_s"]]
    bound = [1.15 * r["raw_ttft_s"] + r["retrieval_s"] for r in rows if r["raw_ttft_s"]]
    within = sum(a <= b for a, b in zip(ask, bound, strict=False))
    overhead = [
        (r["ask_ttft_s"] - r["retrieval_s"]) / r["raw_ttft_s"] for r in rows if r["raw_ttft_s"]
    ]
    speeds = [
        r["ask_tokens_per_s"] / r["raw_tokens_per_s"]
        for r in rows
        if r["ask_tokens_per_s"] and r["raw_tokens_per_s"]
    ]
    return [
        f"| {result['model']} | {len(rows)} | {p50(retrieval, 50):.1f} / {p50(retrieval, 95):.1f}"
        f" | {p50(ask, 50):.3f} | {p50(raw, 50):.3f} | {p50(overhead, 50):.3f}x"
        f" | {within}/{len(bound)} | {p50(speeds, 50):.3f}x"
        f" | {sum(r['same_text'] for r in rows)}/{len(rows)} | {result['rss_ask_mb']:.0f} |"
    ]


def main() -> None:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="smollm2-135m,qwen2.5-coder-0.5b")
    common.add_data_option(parser)
    parser.add_argument("--home", type=Path, help="Reuse (or build) the 10k store here.")
    parser.add_argument("--child", nargs=2, metavar=("MODEL", "QUESTIONS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    common.data_file(args.data, PROG)
    if args.child:
        result = run_model(args.home, args.child[0], json.loads(args.child[1]))
        print(json.dumps(result))
        return

    command = "python -m scripts.bench.chat " + shlex.join(sys.argv[1:])
    temp = tempfile.TemporaryDirectory()
    home = args.home or Path(temp.name)
    print(f"building a {SIZE:,}-memory store in {home} ...", file=sys.stderr)
    questions = build_store(home, args.data)
    lines = [
        common.header(command),
        "",
        "| model | questions | retrieval ms p50 / p95 | ask TTFT s p50 | raw TTFT s p50 "
        "| (ask - retrieval) / raw, p50 | ask <= 1.15 raw + retrieval | tokens/s ask / raw "
        "| same text | peak RSS MB (ask) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    details = []
    for model in args.models.split(","):
        print(f"{model} ...", file=sys.stderr)
        child = subprocess.run(
            [
                sys.executable,
                "-m",
                __spec__.name,
                "--home",
                str(home),
                "--child",
                model,
                json.dumps(questions),
            ],
            capture_output=True,
            text=True,
            cwd=common.ROOT,
        )
        if child.returncode != 0:
            lines.append(f"| {model} | not run: {child.stderr.strip().splitlines()[-1]} |")
            continue
        result = json.loads(child.stdout.strip().splitlines()[-1])
        lines += summarise(result)
        details.append(result)
    print("\n".join(lines))
    for result in details:
        print(f"\n{result['model']}: " + "; ".join(result["plan"]))
        for row in result["rows"]:
            if row.get("skipped"):
                print(f"  - {row['question']}: answered 'I don't know' without the model")
            else:
                print(
                    f"  - {row['question']} ({row['prompt_tokens']} prompt tokens): "
                    f"ask {row['ask_ttft_s']:.3f}s, raw {row['raw_ttft_s'] or 0:.3f}s -> "
                    f"{row['answer']!r}"
                )
    temp.cleanup()


if __name__ == "__main__":
    main()
