"""The daemon against real SQLite: in a thread for the logic, as a real process for faults."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import apsw
import pytest

import agent.daemon.server as daemon_module
from agent.daemon.client import DaemonClient, RemotePapertape, open_papertape
from agent.daemon.paths import running_pid, socket_path
from agent.daemon.server import Daemon
from agent.errors import Failure, UserError
from agent.service import Papertape
from agent.settings import Settings, load_settings
from models.fake_embedder import FakeEmbedder
from models.fake_generator import ScriptedGenerator
from tests.conftest import NOW

ENV = {
    "PAPERTAPE_EMBEDDER": "fake",
    "PAPERTAPE_MODEL": "fake",
    "PAPERTAPE_INBOX_EVERY_SECONDS": "1",
}


def settings_for(home: Path, **overrides: object) -> Settings:
    budget = overrides.pop("byte_budget_mb", None)
    settings = load_settings(
        home, overrides={"embedder": "fake", "inbox_every_seconds": 0.5, **overrides}, env={}
    )
    if budget is not None:  # a few KB, below what a person may set: the budget's steps show
        settings = replace(settings, byte_budget_mb=cast(float, budget))
    return settings


def wait_until(check, timeout: float = 30.0, what: str = "it") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} did not happen within {timeout} s")


def serve_in_thread(settings: Settings) -> Iterator[Daemon]:
    """A daemon serving the settings' home from a thread of this process."""
    app = Papertape(settings, embedder=FakeEmbedder(), generator=ScriptedGenerator())
    daemon = Daemon(settings, app)
    thread = threading.Thread(target=daemon.run, kwargs={"handle_signals": False})
    thread.start()
    wait_until(lambda: DaemonClient.find(settings) is not None, what="the daemon answering")
    yield daemon
    daemon.stop()
    thread.join(timeout=30)
    assert not thread.is_alive()


@pytest.fixture
def running(home: Path) -> Iterator[Daemon]:
    yield from serve_in_thread(settings_for(home))


def test_a_full_byte_budget_is_a_sentence_and_the_queue_waits(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(daemon_module, "RETRY_S", 0.2)
    for daemon in serve_in_thread(settings_for(home, byte_budget_mb=0.0045)):
        remote = open_papertape(daemon.settings)
        first = remote.note("first pinned note", now=NOW).memory_id
        second = remote.note("second pinned note", now=NOW).memory_id
        remote.set_pinned([first, second], True)  # type: ignore[list-item]
        with pytest.raises(Failure, match="byte budget"):
            remote.note("a third note that does not fit", now=NOW)
        assert daemon.queue_count() == 1
        remote.set_pinned([first], False)  # type: ignore[list-item]
        wait_until(lambda d=daemon: d.queue_count() == 0, what="the queue draining")
        with daemon.lock:
            memories = {m.text: m.tier for m in daemon.app.store.iter_memories()}
            assert daemon.app.store.stats().bytes <= 4500
            assert daemon.app.store.integrity_check() == "ok"
        assert memories["second pinned note"] == "sharp"
        assert memories["a third note that does not fit"] == "sharp"
        assert memories.get("first pinned note", "archive") == "archive"  # a gist, or gone
        remote.close()


def test_the_api_answers_like_the_service(running: Daemon) -> None:
    remote = open_papertape(running.settings)
    assert isinstance(remote, RemotePapertape)
    first = remote.note("the gate code is 4411", now=NOW)
    assert (first.status, first.memory_id) == ("stored", 1)
    assert remote.note("the gate code is 4411", now=NOW).status == "duplicate"
    remote.note("Maria likes orchids", now=NOW + 60, occurred_at=NOW - 3600)
    hits = remote.recall("gate code", now=NOW + 120, k=2, strengthen=False)
    with running.lock:
        local = running.app.recall("gate code", now=NOW + 120, k=2, strengthen=False)
    assert [(h.memory, h.score) for h in hits] == [(h.memory, h.score) for h in local]
    assert remote.stats() == running.app.stats()
    tokens: list[str] = []
    answer = remote.chat().ask("what is the gate code?", now=NOW + 180, on_token=tokens.append)
    assert "4411" in answer.text
    assert answer.citations == (1,)
    assert "".join(tokens).strip()
    assert remote.set_pinned([2], True) == [2]
    with running.lock:
        running.app.store.link(1, 2, "supersedes")
    assert remote.restore_current([2, 1]) == {2: [1], 1: []}
    assert remote.replaced_by(2) is None
    assert remote.forget([2]) == [2]
    with pytest.raises(UserError, match="no memory with id 99"):
        remote.forget([99])
    with pytest.raises(UserError, match="empty"):
        remote.note("   ", now=NOW)
    remote.close()


def test_a_line_with_a_speaker_goes_through_the_daemon_as_theirs(running: Daemon) -> None:
    remote = open_papertape(running.settings)
    result = remote.note("the ferry leaves at six", now=NOW, speaker="Bo")
    assert result.memory_id is not None
    with running.lock:
        stored = running.app.store.get(result.memory_id)
        speakers = running.app.store.speakers_of([result.memory_id])
    assert stored is not None
    assert stored.text == "Bo: the ferry leaves at six"
    assert speakers == {result.memory_id: "Bo"}
    with pytest.raises(UserError, match="speaker must be a name"):
        remote.note("hello", now=NOW, speaker="Bo\nAnna")
    remote.close()


def test_an_edit_beside_a_running_daemon_is_made_by_the_daemon(running: Daemon) -> None:
    remote = open_papertape(running.settings)
    remote.note("the boat is moored at pier 4", now=NOW)
    writes: list[str] = []
    running.app.store.conn.setupdatehook(lambda op, db, table, rowid: writes.append(table))
    edited = remote.edit(1, "the boat is moored at pier 9, password: sw0rdf1sh-7")
    # The daemon's own connection wrote it; the client only read beside it.
    assert writes
    assert "pier 9" in edited.text
    assert "sw0rdf1sh" not in edited.text
    with running.lock:
        assert running.app.memory(1).text == edited.text
    remote.close()


def test_commands_that_write_locally_are_refused_while_the_daemon_runs(running: Daemon) -> None:
    env = {**os.environ, **ENV, "PAPERTAPE_HOME": str(running.settings.home)}
    done = subprocess.run(
        [sys.executable, "-m", "agent.cli", "import", "-"],
        env=env,
        input="",
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2, done.stderr
    assert "only writer" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_socket_is_private_and_a_second_daemon_is_refused(running: Daemon) -> None:
    mode = stat.S_IMODE(os.stat(socket_path(running.settings)).st_mode)
    assert mode == 0o600
    assert running_pid(running.settings) == os.getpid()
    with pytest.raises(UserError, match="already running"):
        Daemon(running.settings, Papertape(running.settings)).acquire_lock()


def test_garbage_and_hang_ups_do_not_stop_the_daemon(running: Daemon) -> None:
    path = str(socket_path(running.settings))
    with socket.socket(socket.AF_UNIX) as conn:
        conn.connect(path)
        conn.sendall(b"\x00\xffnot json at all\n")
        reply = json.loads(conn.makefile("rb").readline())
    assert reply == {"ok": False, "error": "that is not a papertape request.", "code": 2}
    with socket.socket(socket.AF_UNIX) as conn:
        conn.connect(path)
        conn.sendall(b'{"op": "note", "text": "half a requ')  # and hang up
    with socket.socket(socket.AF_UNIX) as conn:
        conn.connect(path)
        conn.sendall(b'{"op": "recall"}\n')  # no query
        assert json.loads(conn.makefile("rb").readline())["code"] == 2
    client = DaemonClient(Path(path))
    assert client.call("status")["pid"] == os.getpid()
    with pytest.raises(UserError, match="no operation"):
        client.call("reformat_disk")


def test_the_inbox_files_things_away(running: Daemon) -> None:
    inbox = running.settings.home / "inbox"
    inbox.mkdir(exist_ok=True)
    (inbox / "good.md").write_text("Notes from the inbox about tulip bulbs.")
    (inbox / "broken.txt").write_bytes(b"\xff\xfe\x00\x00 not utf-8 \x00")
    (inbox / "picture.png").write_bytes(b"\x89PNG\r\n\x1a\n....")
    wait_until(lambda: not (inbox / "good.md").exists(), what="good.md taken in")
    wait_until(lambda: (inbox / "rejected" / "picture.png.reason").exists(), what="png rejected")
    wait_until(lambda: (inbox / "rejected" / "broken.txt.reason").exists(), what="bad rejected")
    assert "binary" in (inbox / "rejected" / "broken.txt.reason").read_text()
    assert not any(p.is_file() for p in inbox.iterdir())
    assert not (inbox / "done").exists()  # a stored file leaves no copy (agent/ingest/inbox.py)
    with running.lock:
        assert [m.text for m in running.app.store.iter_memories()] == [
            "Notes from the inbox about tulip bulbs."
        ]


def test_a_full_disk_is_a_sentence_and_the_queue_waits(
    running: Daemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(daemon_module, "RETRY_S", 0.2)
    remote = open_papertape(running.settings)
    remote.note("a first note fills nothing", now=NOW)
    with running.lock:
        conn = running.app.store.conn
        pages = int(next(iter(conn.execute("PRAGMA page_count")))[0])
        conn.execute(f"PRAGMA max_page_count = {pages}")  # this connection can grow no more
    with pytest.raises(Failure, match="disk is full"):
        remote.note("a second note " + "x" * 20_000, now=NOW)
    assert running.queue_count() == 1  # acknowledged as queued, kept for later
    with running.lock:
        conn.execute("PRAGMA max_page_count = 1073741823")
    wait_until(lambda: running.queue_count() == 0, what="the queue draining")
    with running.lock:
        texts = [m.text for m in running.app.store.iter_memories()]
        assert any(t.startswith("a second note") for t in texts)  # a long note: passages
        assert running.app.store.integrity_check() == "ok"
    remote.close()


def daemon_process(home: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "agent.cli", "--home", str(home), "daemon", "run"],
        env={**os.environ, **ENV},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.mark.parametrize("files", [400])
def test_kill_dash_nine_mid_ingest_loses_nothing_acknowledged(home: Path, files: int) -> None:
    folder = home.parent / "big"
    folder.mkdir()
    for i in range(files):
        (folder / f"note-{i:04d}.txt").write_text(
            f"note number {i} about subject {i * 7919 % 1000}"
        )
    settings = settings_for(home)
    process = daemon_process(home)
    try:
        wait_until(lambda: DaemonClient.find(settings) is not None, what="the daemon answering")
        found = DaemonClient.find(settings)
        assert found is not None
        client: DaemonClient = found
        acknowledged = threading.Event()
        progressed = threading.Event()

        def line(data: dict) -> None:
            if "queued" in data:
                assert data["queued"] == files
                acknowledged.set()
            if "progress" in data and data["progress"][0] >= 20:
                progressed.set()

        def ingest() -> None:
            with suppress(OSError, Failure, json.JSONDecodeError):  # the daemon is killed under it
                client.call("ingest", on_line=line, paths=[str(folder)], now=NOW)

        caller = threading.Thread(target=ingest)
        caller.start()
        assert acknowledged.wait(60)
        progressed.wait(60)
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        caller.join(30)
    finally:
        if process.poll() is None:
            process.kill()
    with Papertape(settings, embedder=FakeEmbedder()) as look:
        stored_before = look.store.count()
    assert stored_before < files, "the kill came too late to test anything"
    process = daemon_process(home)
    try:
        wait_until(lambda: DaemonClient.find(settings) is not None, what="the restart")
        again = DaemonClient.find(settings)
        assert again is not None
        wait_until(lambda: again.call("status")["queued"] == 0, 120, "the queue draining")
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 0  # a clean stop
    with Papertape(settings, embedder=FakeEmbedder()) as look:
        memories = list(look.store.iter_memories())
        assert look.store.integrity_check() == "ok"
    sources = [m.source for m in memories]
    assert len(sources) == files
    assert len(set(sources)) == files


def test_cli_start_status_stop_and_in_process_fallback(home: Path) -> None:
    env = {**os.environ, **ENV, "PAPERTAPE_HOME": str(home)}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "agent.cli", *args], env=env, capture_output=True, text=True
        )

    assert ((idle := cli("daemon", "status")).returncode, "not running" in idle.stdout) == (3, True)
    started = cli("daemon", "start")
    assert started.returncode == 0, started.stderr
    assert "started" in started.stdout, started.stderr
    try:
        assert "already running" in cli("daemon", "start").stdout
        second = cli("daemon", "run")
        assert second.returncode == 2
        assert "already running" in second.stderr
        assert cli("note", "kept by the daemon", "--now", "2024-03-01").stdout.strip() == "1"
        status = json.loads(cli("daemon", "status", "--json").stdout)
        assert status["running"]
        assert status["queued"] == 0
        assert {job["name"] for job in status["jobs"]} >= {"consolidate", "inbox", "vacuum"}
        through_daemon = json.loads(cli("recall", "kept", "--json", "--now", "2024-03-02").stdout)
    finally:
        stopped = cli("daemon", "stop")
    assert stopped.returncode == 0
    assert "stopped" in stopped.stdout
    assert not socket_path(settings_for(home)).exists()
    in_process = json.loads(cli("recall", "kept", "--json", "--now", "2024-03-02").stdout)
    # Same ranking and memory; the daemon's recall strengthened it, so scores may differ.
    assert [r["id"] for r in in_process["results"]] == [r["id"] for r in through_daemon["results"]]
    assert in_process["results"][0]["text"] == "kept by the daemon"


def test_apsw_full_error_is_what_sqlite_raises_when_full(tmp_path: Path) -> None:
    # The daemon's disk-full handling rests on this: SQLITE_FULL surfaces as apsw.FullError.
    conn = apsw.Connection(str(tmp_path / "x.db"))
    conn.execute("CREATE TABLE t (x BLOB)")
    conn.execute("PRAGMA max_page_count = 3")
    with pytest.raises(apsw.FullError):
        conn.execute("INSERT INTO t VALUES (zeroblob(100000))")


@pytest.mark.integration
@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_a_note_a_wav_and_a_png_dropped_in_the_inbox_are_all_recalled(running: Daemon) -> None:
    from tests.test_screenshots import screen

    inbox = running.settings.home / "inbox"
    inbox.mkdir(exist_ok=True)
    staging = running.settings.home.parent / "staging"
    staging.mkdir()
    subprocess.run(
        ["espeak-ng", "-w", str(staging / "memo.wav"), "The plumber comes on Friday morning."],
        check=True,
    )
    screen(staging / "shot.png", ["Invoice 2231 from Northwind is due on 30 June"])
    (staging / "note.txt").write_text("The spare key is under the blue flowerpot.")
    for name in ("memo.wav", "shot.png", "note.txt"):
        os.replace(staging / name, inbox / name)  # arrive whole, as a finished copy would
    wait_until(
        lambda: not any(p.is_file() for p in inbox.iterdir()),
        timeout=120,
        what="all three taken in",
    )
    assert not (inbox / "rejected").exists()
    remote = open_papertape(running.settings)
    for query, kind in (
        ("plumber friday", "audio"),
        ("northwind invoice", "screenshot"),
        ("spare key", "text"),
    ):
        hits = remote.recall(query, now=NOW, k=3, strengthen=False)
        assert hits, (query, [h.memory for h in hits])
        assert hits[0].memory.kind == kind, (query, [h.memory for h in hits])
    remote.close()


def test_status_shows_a_consolidation_in_progress(
    running: Daemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agent.daemon import jobs as daemon_jobs
    from tui.status import status_text

    halfway, finish = threading.Event(), threading.Event()
    real = running.app.consolidate

    def slow(*, now: float, progress: Any = None, **kwargs: Any) -> Any:
        progress(1, 3, "facts: episode of 2 from notes")
        halfway.set()
        finish.wait(timeout=30)
        return real(now=now, **kwargs)

    monkeypatch.setattr(running.app, "consolidate", slow)
    job = threading.Thread(target=daemon_jobs.consolidate, args=(running,))
    job.start()
    assert halfway.wait(timeout=30)
    remote = open_papertape(running.settings)
    busy = remote.status()
    assert "consolidating: facts: episode of 2 from notes (1 of 3)" in busy.daemon
    assert busy.stats is None  # not waited for while the job holds the store
    assert "show when the daemon's job is done" in status_text(busy)
    finish.set()
    job.join(timeout=30)
    done = remote.status()
    assert "consolidating" not in done.daemon
    assert done.stats is not None
    remote.close()
