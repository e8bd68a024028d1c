"""Where the passphrase comes from, and the daemon and the UI on an encrypted store."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent import keys
from agent.daemon.client import DaemonClient, RemotePapertape, open_papertape
from agent.daemon.server import Daemon
from agent.errors import UserError
from agent.keys import Unlocked
from agent.service import Papertape
from agent.settings import Settings, load_settings
from models.fake_embedder import FakeEmbedder
from models.fake_generator import ScriptedGenerator
from storage.cipher import Key
from tests.conftest import NOW, PASS
from tests.encryption_support import (
    ROOT,
    encrypted_settings,
    leaks,
)


class FakeKeyring:
    """The keyring module's three calls over a dict (no OS keyring on the test machine)."""

    def __init__(self) -> None:
        self.saved: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, account: str) -> str | None:
        return self.saved.get((service, account))

    def set_password(self, service: str, account: str, password: str) -> None:
        self.saved[(service, account)] = password

    def delete_password(self, service: str, account: str) -> None:
        del self.saved[(service, account)]


def test_the_passphrase_can_live_in_the_keyring(
    cli, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(keys, "_keyring", lambda: None)
    monkeypatch.setenv("PAPERTAPE_PASSPHRASE", PASS)
    absent = cli("init", "--encrypt", "--keyring")
    assert absent.code == 2
    assert "no OS keyring" in absent.err
    assert not (home / "papertape.db").exists()
    ring = FakeKeyring()
    monkeypatch.setattr(keys, "_keyring", lambda: ring)
    assert cli("init", "--encrypt", "--keyring").code == 0
    assert list(ring.saved.values()) == [PASS]
    monkeypatch.delenv("PAPERTAPE_PASSPHRASE")
    assert cli("note", "Fennel seeds in the blue tin").code == 0  # opened from the keyring
    assert "the OS keyring" in cli("doctor").out
    monkeypatch.setenv("PAPERTAPE_NEW_PASSPHRASE", "a brand new passphrase")
    assert cli("passphrase").code == 0
    assert list(ring.saved.values()) == ["a brand new passphrase"]  # kept up to date
    assert "Fennel" in cli("recall", "fennel", "--peek").out
    assert cli("passphrase", "--no-keyring", "--unchanged").code == 0
    assert ring.saved == {}
    assert cli("stats").code == 2


def test_the_passphrase_is_never_shown() -> None:
    key = Key(PASS)
    assert PASS not in repr(key)
    assert PASS not in str(key)
    assert PASS not in repr(Unlocked(key, "environment"))


def test_the_daemon_refuses_to_start_without_a_key(home: Path, secret_env: None) -> None:
    with Papertape(encrypted_settings(home), embedder=FakeEmbedder()) as app:
        app.note("Bicycle lock code is in the drawer", now=NOW)
    env = {k: v for k, v in os.environ.items() if k != "PAPERTAPE_PASSPHRASE"}
    env.update(PYTHONPATH=str(ROOT), PAPERTAPE_EMBEDDER="fake")
    for command in (["daemon", "run"], ["daemon", "start"]):
        done = subprocess.run(
            [sys.executable, "-m", "agent.cli", "--home", str(home), *command],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=60,
        )
        assert done.returncode == 2, done.stderr
        assert "PAPERTAPE_PASSPHRASE" in done.stderr
        assert "Traceback" not in done.stderr
    assert DaemonClient.find(load_settings(home)) is None


def serve(settings: Settings) -> Iterator[Daemon]:
    app = Papertape(settings, embedder=FakeEmbedder(), generator=ScriptedGenerator())
    daemon = Daemon(settings, app)
    thread = threading.Thread(target=daemon.run, kwargs={"handle_signals": False})
    thread.start()
    deadline = time.monotonic() + 30
    while DaemonClient.find(settings) is None:
        assert thread.is_alive(), "the daemon did not answer"
        assert time.monotonic() < deadline, "the daemon did not answer"
        time.sleep(0.1)
    try:
        yield daemon
    finally:  # a failing test stops it too, or the run would wait on its thread
        daemon.stop()
        thread.join(timeout=30)


def test_the_daemon_works_on_an_encrypted_store_and_its_queue_leaks_nothing(
    home: Path, secret_env: None
) -> None:
    settings = encrypted_settings(home)
    for daemon in serve(settings):
        client = DaemonClient.find(settings)
        assert client is not None
        inbox = home / "inbox"
        inbox.mkdir(exist_ok=True)
        (inbox / "seeds.md").write_text("Heirloom tomatoes germinate in Philadelphia greenhouse")
        deadline = time.monotonic() + 30
        while (inbox / "seeds.md").exists():  # taken in, then deleted: no plaintext copy
            assert time.monotonic() < deadline, "the inbox file was not taken in"
            time.sleep(0.2)
        assert daemon.queue_count() == 0
        assert leaks(home, [b"Heirloom", b"Philadelphia"]) == []
    assert not (home / "inbox" / "seeds.md").exists()
    assert leaks(home, [b"Heirloom", b"Philadelphia", b"germinate"]) == []
    with Papertape(settings, embedder=FakeEmbedder()) as app:
        texts = [m.text for m in app.store.iter_memories()]
    assert any("Heirloom" in t for t in texts)


def test_through_the_daemon_a_wrong_or_missing_passphrase_touches_nothing(
    home: Path, secret_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = encrypted_settings(home)
    for _ in serve(settings):
        monkeypatch.setenv("PAPERTAPE_PASSPHRASE", "not the passphrase at all")
        with pytest.raises(UserError, match="does not open"):
            open_papertape(settings).note("Kohlrabi seedlings by the window", now=NOW)
        monkeypatch.delenv("PAPERTAPE_PASSPHRASE")
        with pytest.raises(UserError, match="no passphrase was given"):
            open_papertape(settings).note("Kohlrabi seedlings by the window", now=NOW)
        monkeypatch.setenv("PAPERTAPE_PASSPHRASE", PASS)
        served = open_papertape(settings)
        assert isinstance(served, RemotePapertape)
        assert served.recall("kohlrabi", now=NOW, mode="keyword") == []
        stored = served.note("Kohlrabi seedlings by the window", now=NOW)
        assert stored.memory_id is not None
        assert "Kohlrabi" in served.memory(stored.memory_id).text
        served.close()


async def test_the_ui_opens_an_encrypted_store(home: Path, secret_env: None) -> None:
    from textual.widgets import DataTable

    from tui.app import PapertapeApp

    settings = encrypted_settings(home)
    with Papertape(settings, embedder=FakeEmbedder(), generator=ScriptedGenerator()) as service:
        service.note("The spare key is under the blue flowerpot", now=NOW)
        assert service.unlocked.key is not None
        app = PapertapeApp(service, clock=lambda: NOW + 60)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("f3")
            await pilot.press(*"flowerpot")
            for _ in range(50):
                await pilot.pause(0.1)
                if app.query_one("#hits", DataTable).row_count:
                    break
            assert app.query_one("#hits", DataTable).row_count >= 1
    assert leaks(home, [b"flowerpot"]) == []
