#!/usr/bin/env python3
"""Recall through `papertape mcp` (the SDK's client, stdio) against recall in-process.

One home is filled with N memories (LoCoMo turns, cycled and numbered), then the same
questions go, one at a time and alternating, to `Papertape.recall()` in this process and to
the `recall` tool of a `papertape mcp` server over stdio (the round trip a client sees:
JSON-RPC both ways, argument checks, the JSON result). Both sides peek (no strengthening), so
they do the same work and the store does not change under either. Reported: p50 and p95 of
each, and the ratios (target: at most 1.5x). With --daemon a daemon serves the home, so the
server's every call goes through its socket (and first asks whether it still runs).

    python -m scripts.bench.mcp [--memories 10000] [--queries 300]
        [--embedder minilm|fake] [--daemon]
                         [--data FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mcp import ClientSession, StdioServerParameters, stdio_client

from agent.clock import iso
from agent.daemon.client import DaemonClient
from agent.ingest.notes import NoteInput
from agent.service import Papertape
from agent.settings import Settings, load_settings
from scripts.bench import common
from scripts.bench.common import percentile
from scripts.bench.locomo_data import load

PROG = common.command_name(__file__)

NOW = 1_700_000_000.0
WARM_UP = 10


def corpus(data: Path, memories: int, queries: int) -> tuple[list[str], list[str]]:
    conversations = load(data)
    turns = [t.text for c in conversations for t in c.turns]
    questions = [q.question for c in conversations for q in c.questions]
    notes = [f"{turns[i % len(turns)]} (#{i})" for i in range(memories)]
    return notes, [questions[i % len(questions)] for i in range(queries + WARM_UP)]


def fill(home: Path, embedder: str, notes: list[str]) -> float:
    settings = load_settings(home, overrides={"embedder": embedder}, env={})
    started = time.perf_counter()
    with Papertape(settings) as app:
        step = 500
        for i in range(0, len(notes), step):
            batch = [
                NoteInput(t, NOW - len(notes) + i + j, "bench")
                for j, t in enumerate(notes[i : i + step])
            ]
            app.note_many(batch, now=NOW)
            print(f"\rfilled {min(i + step, len(notes)):,}/{len(notes):,}", end="", file=sys.stderr)
    print(file=sys.stderr)
    return time.perf_counter() - started


async def measure(
    home: Path, embedder: str, questions: list[str], k: int, daemon: bool
) -> tuple[list[float], list[float]]:
    """Each question in-process, then through MCP; the first WARM_UP of each are not counted."""
    env = {
        "PAPERTAPE_HOME": str(home),
        "PAPERTAPE_EMBEDDER": embedder,
        "PAPERTAPE_NOW": iso(NOW) or "",  # the same clock on both sides: the same ranking
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(common.ROOT), os.environ.get("PYTHONPATH")) if p
        ),
    }
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "agent.cli", "mcp"], env=env, cwd=str(common.ROOT)
    )
    settings = load_settings(home, overrides={"embedder": embedder}, env={})
    served = start_daemon(home, env) if daemon else None
    try:
        return await _alternate(params, settings, questions, k)
    finally:
        if served is not None:
            served.send_signal(signal.SIGTERM)
            served.wait(120)


def start_daemon(home: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "agent.cli", "daemon", "run"],
        env={
            **os.environ,
            **env,
            # Only the API: no job may change the store or load a model under the benchmark.
            "PAPERTAPE_INBOX_EVERY_SECONDS": "0",
            "PAPERTAPE_CONSOLIDATE_EVERY_HOURS": "0",
            "PAPERTAPE_VACUUM_EVERY_HOURS": "0",
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    settings = load_settings(home, env=env)
    deadline = time.monotonic() + 120
    while DaemonClient.find(settings) is None:
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            raise SystemExit("bench_mcp: the daemon did not start")
        time.sleep(0.2)
    return process


async def _alternate(
    params: StdioServerParameters, settings: Settings, questions: list[str], k: int
) -> tuple[list[float], list[float]]:
    local: list[float] = []
    remote: list[float] = []
    with Papertape(settings) as app, open(os.devnull, "w") as quiet:
        async with (
            stdio_client(params, errlog=quiet) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            for question in questions:
                start = time.perf_counter()
                hits = app.recall(question, now=NOW, k=k, strengthen=False)
                local.append(time.perf_counter() - start)
                start = time.perf_counter()
                result = await session.call_tool(
                    "recall", {"query": question, "k": k, "peek": True}
                )
                remote.append(time.perf_counter() - start)
                if result.is_error or not result.structured_content:
                    raise SystemExit(f"bench_mcp: the server failed: {result.content}")
                served = [r["id"] for r in result.structured_content["results"]]
                if served != [h.memory.id for h in hits]:
                    raise SystemExit(f"bench_mcp: the two paths ranked {question!r} differently")
    return local[WARM_UP:], remote[WARM_UP:]


def main() -> None:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    parser.add_argument("--memories", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("-k", type=int, default=10)
    parser.add_argument("--daemon", action="store_true", help="serve the home with a daemon")
    parser.add_argument(
        "--embedder",
        choices=("minilm", "fake"),
        default="minilm",
        help="minilm (the real one; slower to fill) or fake (hash vectors; fills in seconds)",
    )
    common.add_data_option(parser)
    args = parser.parse_args()
    if args.memories < 1 or args.queries < 1 or not 1 <= args.k <= 100:
        common.refuse(PROG, "--memories and --queries must be positive, -k 1 to 100.")
    common.data_file(args.data, PROG)
    notes, questions = corpus(args.data, args.memories, args.queries)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        fill_s = fill(home, args.embedder, notes)
        local, remote = asyncio.run(measure(home, args.embedder, questions, args.k, args.daemon))
    command = " ".join(["python -m scripts.bench.mcp", *(shlex.quote(a) for a in sys.argv[1:])])
    print(common.header(command))
    print(
        f"{args.memories:,} memories ({args.embedder} embedder, filled in {fill_s:.0f} s); "
        f"{args.queries} LoCoMo questions, k={args.k}, peek; alternating, after {WARM_UP} "
        "warm-up queries each\n"
    )
    print("| path | p50 ms | p95 ms | mean ms |")
    print("|---|---|---|---|")
    route = "MCP recall tool, stdio" + (", through the daemon" if args.daemon else "")
    for name, times in (("in-process Papertape.recall", local), (route, remote)):
        print(
            f"| {name} | {1000 * percentile(times, 50):.2f} | {1000 * percentile(times, 95):.2f} "
            f"| {1000 * sum(times) / len(times):.2f} |"
        )
    p50 = percentile(remote, 50) / percentile(local, 50)
    p95 = percentile(remote, 95) / percentile(local, 95)
    print(f"\nratios MCP / in-process: p50 {p50:.2f}x, p95 {p95:.2f}x (target <= 1.5x)")


if __name__ == "__main__":
    main()
