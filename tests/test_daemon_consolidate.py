"""A consolidation asked for while the daemon runs: the daemon, the home's one writer, makes
it and sends its progress; a client that hangs up stops it at its next step."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.daemon.client import DaemonClient, open_papertape
from agent.daemon.paths import socket_path
from agent.daemon.server import Daemon
from agent.errors import Stopped, UserError
from agent.memory.report import ConsolidationReport, Move
from tests.conftest import NOW
from tests.test_daemon import ENV, serve_in_thread, settings_for, wait_until

YEAR = 365 * 86400.0


@pytest.fixture
def running(home: Path) -> Iterator[Daemon]:
    yield from serve_in_thread(settings_for(home))


def _notes(daemon: Daemon, count: int = 6) -> list[int]:
    remote = open_papertape(daemon.settings)
    try:
        results = [
            remote.note(f"note {i}: the ferry timetable changes in spring", now=NOW)
            for i in range(count)
        ]
    finally:
        remote.close()
    ids = [r.memory_id for r in results if r.memory_id is not None]
    assert len(ids) == count
    return ids


def test_the_daemon_consolidates_when_asked_and_sends_its_progress(running: Daemon) -> None:
    ids = _notes(running)
    remote = open_papertape(running.settings)
    writes: list[str] = []
    running.app.store.conn.setupdatehook(lambda op, db, table, rowid: writes.append(table))
    steps: list[tuple[int, int, str]] = []
    report = remote.consolidate(
        now=NOW + 2 * YEAR,
        summarizer="extractive",
        progress=lambda done, total, label: steps.append((done, total, label)),
    )
    remote.close()
    assert writes  # the daemon's own connection made it
    assert isinstance(report, ConsolidationReport)
    assert report.summarizer == "extractive"
    assert report.moves
    assert all(isinstance(m, Move) for m in report.moves)
    assert {m.memory_id for m in report.moves} <= set(ids) | set(report.summaries)
    assert steps
    assert steps[-1][0] == steps[-1][1]
    with running.lock:
        tiers = {
            running.app.memory(m.memory_id).tier for m in report.moves if m.after != "forgotten"
        }
    assert tiers
    assert "sharp" not in tiers
    assert running.busy is None


def test_a_report_comes_back_field_for_field(running: Daemon) -> None:
    _notes(running, 3)
    with running.lock:
        local = running.app.consolidate(now=NOW + 2 * YEAR, summarizer="extractive")
    local_fields = vars(local)
    from agent.daemon import wire

    assert vars(wire.consolidation_in(json.loads(json.dumps(wire.consolidation_out(local))))) == (
        local_fields
    )


def test_a_summarizer_other_than_extractive_is_refused(running: Daemon) -> None:
    client = DaemonClient(socket_path(running.settings))
    with pytest.raises(UserError, match="summarizer must be extractive"):
        client.call("consolidate", now=NOW, summarizer="rm -rf")


def test_a_client_that_hangs_up_stops_the_consolidation_at_its_next_step(
    running: Daemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, hung_up, ended = threading.Event(), threading.Event(), threading.Event()
    outcome: list[BaseException | str] = []

    def steps(*, now: float, progress: Any = None, **kwargs: Any) -> Any:
        try:
            progress(1, 3, "facts: episode of 2 from notes")
            first.set()
            hung_up.wait(timeout=30)
            progress(2, 3, "facts: episode of 4 from notes")
            outcome.append("went on")
        except BaseException as exc:
            outcome.append(exc)
            raise
        finally:
            ended.set()
        return ConsolidationReport(now=now, summarizer="extractive")

    monkeypatch.setattr(running.app, "consolidate", steps)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.connect(str(socket_path(running.settings)))
        conn.sendall(json.dumps({"op": "consolidate", "now": NOW}).encode() + b"\n")
        line = json.loads(conn.makefile("rb").readline())
        assert line == {"progress": [1, 3, "facts: episode of 2 from notes"]}
        assert first.wait(timeout=30)
    hung_up.set()
    assert ended.wait(timeout=30)
    assert len(outcome) == 1, outcome
    assert isinstance(outcome[0], Stopped), outcome
    wait_until(lambda: running.busy is None, what="the daemon free again")
    assert DaemonClient.find(running.settings) is not None  # and still serving


def test_consolidate_on_the_command_line_goes_through_the_daemon(running: Daemon) -> None:
    ids = _notes(running, 4)
    env = {**os.environ, **ENV, "PAPERTAPE_HOME": str(running.settings.home)}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "agent.cli",
            "consolidate",
            "--extractive",
            "--json",
            "--now",
            "2027-06-01",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "the daemon consolidates" in done.stderr
    report = json.loads(done.stdout)
    assert report["summarizer"] == "extractive"
    assert {m["id"] for m in report["moves"]} & set(ids)
    with running.lock:
        assert all(running.app.memory(i).tier != "sharp" for i in ids)
