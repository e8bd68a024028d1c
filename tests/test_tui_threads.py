"""The terminal UI when things go wrong: its threads share one service (one call at a time),
the daemon it went through stops (the home in-process), it crashes (no locals shown). Real
stores; the threads are real threads."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from agent.answer.session import ChatSession
from agent.daemon.client import DaemonClient, RemotePapertape
from agent.service import Papertape
from agent.settings import load_settings
from models.fake_embedder import FakeEmbedder
from models.fake_generator import ScriptedGenerator
from tests.conftest import NOW
from tui.guarded import guarded, through_daemon


def open_home(home: Path) -> Papertape:
    settings = load_settings(home, overrides={"embedder": "fake"})
    return Papertape(settings, embedder=FakeEmbedder(), generator=ScriptedGenerator())


def test_threads_and_another_writer_share_the_store_without_errors(home: Path) -> None:
    """Searching and listing on workers while the screen pins and edits, with another
    connection writing beside them (the command line in another shell), as in the UI.
    Unguarded, the same loop failed with threading and "database is locked" errors."""
    with open_home(home) as papertape, open_home(home) as other:
        ids = [papertape.note(f"note {i} about keys", now=NOW).memory_id for i in range(20)]
        service = guarded(papertape)
        errors: list[BaseException] = []
        done = threading.Event()

        def keep_going(work: Callable[[], None]) -> None:
            try:
                while not done.is_set():
                    work()
            except BaseException as exc:  # every failure is the finding
                errors.append(exc)

        def read() -> None:
            service.stats()
            service.timeline(before=None, limit=50)
            service.recall("keys", now=NOW, strengthen=False)

        count = iter(range(10**6))

        def write_beside() -> None:
            other.note(f"written beside {next(count)}", now=NOW)

        workers = [threading.Thread(target=keep_going, args=(w,)) for w in (read, write_beside)]
        for worker in workers:
            worker.start()
        try:
            for i in range(150):
                memory_id = ids[i % len(ids)]
                assert memory_id is not None
                service.edit(memory_id, f"edited {i} about keys")
                service.set_pinned([memory_id], i % 2 == 0)
        finally:
            done.set()
            for worker in workers:
                worker.join()
        assert errors == []
        assert papertape.store.count() > 20  # the other writer did write


def test_a_daemon_gone_is_replaced_by_the_home_in_process(home: Path, tmp_path: Path) -> None:
    settings = load_settings(home, overrides={"embedder": "fake"})
    gone = RemotePapertape(settings, DaemonClient(tmp_path / "no-daemon.sock"))
    with pytest.raises(FileNotFoundError):
        gone.note("straight to a socket that is not there", now=NOW)
    in_process = open_home(home)
    service = guarded(gone, reopen=lambda: in_process)
    assert through_daemon(service)  # the status pane refreshes the daemon's progress
    result = service.note("the spare key is under the mat", now=NOW)
    assert result.status == "stored"
    assert in_process.store.count() == 1
    assert service.stats().memories == 1  # and the next calls go there too
    assert not through_daemon(service)
    # A chat session through the daemon says nothing to it until its first question: the
    # daemon is asked whether it answers before one is made.
    chatting = guarded(
        RemotePapertape(settings, DaemonClient(tmp_path / "x.sock")), lambda: in_process
    )
    assert isinstance(chatting.chat(), ChatSession)
    in_process.close()


def test_a_crash_shows_no_local_variables(home: Path) -> None:
    """Textual's crash report prints each frame's locals: memory text, an edit's secrets."""
    from rich.console import Console

    from tui.app import PapertapeApp

    with open_home(home) as papertape:
        app = PapertapeApp(papertape, clock=lambda: NOW)
        edit_text = "the password is hunter" + "2zebra"  # a local of the frame that fails
        try:
            raise ValueError(f"failed after {len(edit_text)} characters")
        except ValueError:
            app._fatal_error()
        console = Console(record=True, width=120)
        for shown in app._exit_renderables:
            console.print(shown)
        report = console.export_text()
    assert "ValueError: failed after 28 characters" in report
    assert "hunter2zebra" not in report


def test_a_home_opens_while_another_process_writes_to_it(home: Path) -> None:
    # Opening makes sure of the cold file's tables; in a deferred transaction that had read
    # before the other writer committed, SQLite refused the write at once ("database is
    # locked"): 145 of 200 opens failed so beside a writer.
    with open_home(home) as writer:
        writer.note("the first note", now=NOW)
        done = threading.Event()

        def write() -> None:
            count = 0
            while not done.is_set():
                writer.note(f"note {count}", now=NOW)
                count += 1

        thread = threading.Thread(target=write)
        thread.start()
        failures = []
        try:
            for _ in range(60):
                opened = open_home(home)
                try:
                    opened.stats()
                except Exception as exc:  # every failure is the finding
                    failures.append(exc)
                finally:
                    opened.close()
        finally:
            done.set()
            thread.join()
    assert failures == []
