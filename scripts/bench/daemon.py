#!/usr/bin/env python3
"""Notes through the daemon's socket against the same notes through the in-process API.

A real daemon process (MiniLM embedder) takes N notes from 4 concurrent clients, one request
per note, each answered once the note is queued and stored. In the same run the same notes go
into another home through `Papertape.note()` in this process, one after another. Reported:
every note stored (count and distinct texts), acknowledgement latency p50/p95, throughput, and
the ratios.

    python -m scripts.bench.daemon [--notes 10000] [--clients 4] [--data FILE]
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from agent.daemon.client import DaemonClient
from agent.service import Papertape
from agent.settings import load_settings
from scripts.bench import common
from scripts.bench.common import percentile
from scripts.bench.locomo_data import load

PROG = common.command_name(__file__)

NOW = 1_700_000_000.0


def texts(data: Path, count: int) -> list[str]:
    turns = [t.text for c in load(data) for t in c.turns] if data.exists() else ["a note"]
    return [f"{turns[i % len(turns)]} (#{i})" for i in range(count)]


def through_daemon(home: Path, notes: list[str], clients: int) -> tuple[list[float], float]:
    env = {**os.environ, "PAPERTAPE_INBOX_EVERY_SECONDS": "0"}
    process = subprocess.Popen(
        [sys.executable, "-m", "agent.cli", "--home", str(home), "daemon", "run"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    settings = load_settings(home)
    try:
        deadline = time.monotonic() + 120
        client = None
        while client is None and time.monotonic() < deadline:
            client = DaemonClient.find(settings)
            time.sleep(0.2)
        assert client is not None, "the daemon did not start"
        client.call("note", text="warm-up: load the embedder", now=NOW)
        latencies: list[float] = []
        lock = threading.Lock()

        def send(share: list[str]) -> None:
            mine = []
            for text in share:
                start = time.perf_counter()
                client.call("note", text=text, now=NOW)
                mine.append(time.perf_counter() - start)
            with lock:
                latencies.extend(mine)

        threads = [threading.Thread(target=send, args=(notes[i::clients],)) for i in range(clients)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(120)
    return latencies, elapsed


def in_process(home: Path, notes: list[str]) -> tuple[list[float], float]:
    with Papertape(load_settings(home)) as app:
        app.note("warm-up: load the embedder", now=NOW)
        latencies = []
        started = time.perf_counter()
        for text in notes:
            start = time.perf_counter()
            app.note(text, now=NOW)
            latencies.append(time.perf_counter() - start)
        return latencies, time.perf_counter() - started


def stored(home: Path) -> tuple[int, int]:
    with Papertape(load_settings(home)) as app:
        memories = [m.text for m in app.store.iter_memories()]
        return len(memories), len(set(memories))


def main() -> None:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    parser.add_argument("--notes", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=4)
    common.add_data_option(parser)
    args = parser.parse_args()
    common.data_file(args.data, PROG)
    notes = texts(args.data, args.notes)
    with tempfile.TemporaryDirectory() as tmp:
        daemon_lat, daemon_s = through_daemon(Path(tmp) / "daemon", notes, args.clients)
        local_lat, local_s = in_process(Path(tmp) / "local", notes)
        daemon_count = stored(Path(tmp) / "daemon")
        local_count = stored(Path(tmp) / "local")
    command = "python -m scripts.bench.daemon " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    print(common.header(command))
    print(f"{args.notes} notes; daemon: {args.clients} concurrent clients over the Unix socket\n")
    print("| path | stored (distinct) | ack p50 ms | ack p95 ms | notes/s |")
    print("|---|---|---|---|---|")
    for name, lat, secs, count in (
        ("daemon", daemon_lat, daemon_s, daemon_count),
        ("in-process", local_lat, local_s, local_count),
    ):
        print(
            f"| {name} | {count[0] - 1:,} ({count[1] - 1:,}) | {1000 * percentile(lat, 50):.1f} | "
            f"{1000 * percentile(lat, 95):.1f} | {len(lat) / secs:.0f} |"
        )
    p50 = percentile(daemon_lat, 50) / percentile(local_lat, 50)
    p95 = percentile(daemon_lat, 95) / percentile(local_lat, 95)
    print(
        f"\nratios daemon / in-process: p50 {p50:.2f}x, p95 {p95:.2f}x, "
        f"throughput {(len(daemon_lat) / daemon_s) / (len(local_lat) / local_s):.2f}x"
    )


if __name__ == "__main__":
    main()
