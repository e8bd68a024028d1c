"""The terminal UI beside a running daemon: through it, or in-process and saying so."""

from __future__ import annotations

import os

from agent.daemon.client import RemotePapertape, open_papertape
from agent.daemon.server import Daemon
from agent.service import Papertape
from models.fake_embedder import FakeEmbedder
from tests.conftest import NOW
from tests.test_daemon import running

__all__ = ["running"]  # the fixture, shared with tests/test_daemon.py


async def test_the_terminal_ui_talks_to_a_running_daemon(running: Daemon) -> None:
    from textual.widgets import Static

    from tui.app import PapertapeApp

    remote = open_papertape(running.settings)
    assert isinstance(remote, RemotePapertape)
    remote.note("The spare key is under the blue flowerpot.", now=NOW)
    app = PapertapeApp(remote, clock=lambda: NOW + 60)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"where is the spare key?", "enter")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        log = " ".join(str(w.render()) for w in app.query("#log Static"))
        assert "flowerpot" in log
        assert "cites [1]" in log
        await pilot.press("f5")
        await app.workers.wait_for_complete()
        await pilot.pause()
        status = str(app.query_one("#status-text", Static).render())
        assert f"running (pid {os.getpid()}" in status
    # The answer was stored by the daemon, as a chat memory.
    with running.lock:
        assert [m.kind for m in running.app.store.iter_memories()] == ["text", "chat"]
    remote.close()


async def test_a_window_opened_in_process_says_a_daemon_now_runs(running: Daemon) -> None:
    from textual.widgets import Static

    from tui.app import PapertapeApp

    # Opened before the daemon started (here: in-process beside it), it does not go through it.
    with Papertape(running.settings, embedder=FakeEmbedder()) as local:
        app = PapertapeApp(local, clock=lambda: NOW + 60)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("f5")
            await app.workers.wait_for_complete()
            await pilot.pause()
            status = str(app.query_one("#status-text", Static).render())
            assert "running, started after this window opened" in status
            assert "not running" not in status
