"""Other local users can read nothing: the home is 0700 and every file in it 0600."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_daemon import wait_until

ENV = {"PAPERTAPE_EMBEDDER": "fake", "PAPERTAPE_MODEL": "fake"}
NOW = "2024-03-01T12:00:00Z"


@pytest.fixture(autouse=True)
def _open_umask() -> Iterator[None]:
    """The umask most accounts have: what is not made private explicitly is 0644 / 0755."""
    before = os.umask(0o022)
    yield
    os.umask(before)


def readable_by_others(home: Path) -> list[str]:
    """Every path in the home that its group or others may use, with its mode."""
    found = []
    for path in [home, *sorted(home.rglob("*"))]:
        mode = path.lstat().st_mode
        if not stat.S_ISLNK(mode) and mode & 0o077:
            found.append(f"{path.relative_to(home.parent)} {stat.filemode(mode)}")
    return found


def test_note_and_ingest_make_a_private_home(cli, home: Path, tmp_path: Path) -> None:
    assert cli("note", "the dentist moved to thursday", "--now", NOW).code == 0
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "a.txt").write_text("the spare key is under the flowerpot")
    assert cli("ingest", str(folder), "--now", NOW).code == 0
    names = {p.name for p in home.iterdir()}
    assert {"papertape.db", "papertape-cold.db"} <= names
    assert readable_by_others(home) == []
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert stat.S_IMODE((home / "papertape.db").stat().st_mode) == 0o600


def test_the_store_is_created_private_without_the_cli(tmp_path: Path) -> None:
    from storage import MemoryStore

    with MemoryStore.open(tmp_path / "h" / "s.db", vector_dim=8, embedder="fake") as store:
        list(store.conn.execute("SELECT 1"))
        files = sorted(p for p in (tmp_path / "h").iterdir())
        assert {p.name for p in files} >= {"s.db", "s-cold.db", "s.db-wal", "s.db-shm"}
        assert [p.name for p in files if p.stat().st_mode & 0o077] == []


def test_an_export_written_with_o_is_private(cli, tmp_path: Path) -> None:
    cli("note", "a note to back up", "--now", NOW)
    out = tmp_path / "backup.jsonl"
    assert cli("export", "-o", str(out)).code == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_an_open_home_is_repaired_on_open_and_said_once(cli, home: Path) -> None:
    cli("note", "made before papertape kept homes private", "--now", NOW)
    (home / "inbox" / "rejected").mkdir(parents=True)
    (home / "inbox" / "rejected" / "x.txt.reason").write_text("x.txt is empty.\n")
    (home / "logs").mkdir()
    (home / "logs" / "daemon.log").write_text("old log\n")
    for path in [home, *home.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    first = cli("stats")
    assert first.code == 0
    warned = [line for line in first.err.splitlines() if "readable by other users" in line]
    assert len(warned) == 1, first.err
    assert readable_by_others(home) == []
    second = cli("stats")
    assert second.code == 0
    assert "readable" not in second.err


def test_repair_leaves_a_folder_that_holds_no_store_alone(tmp_path: Path) -> None:
    # --home pointed at an ordinary folder must not chmod the person's own files.
    from agent import home as private_home

    folder = tmp_path / "documents"
    folder.mkdir()
    (folder / "letter.txt").write_text("dear sir")
    (folder / "letter.txt").chmod(0o644)
    assert private_home.repair(folder) == []
    assert stat.S_IMODE((folder / "letter.txt").stat().st_mode) == 0o644


def test_the_daemon_logs_and_inbox_are_private(home: Path) -> None:
    env = {**os.environ, **ENV, "PAPERTAPE_HOME": str(home), "PAPERTAPE_INBOX_EVERY_SECONDS": "1"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "agent.cli", *args], env=env, capture_output=True, text=True
        )

    started = run("daemon", "start")
    assert started.returncode == 0, started.stderr
    try:
        assert run("note", "kept by the daemon", "--now", NOW).returncode == 0
        assert (home / "papertape.sock").exists()
        wait_until(lambda: (home / "inbox").is_dir(), what="the inbox job making inbox/")
    finally:
        stopped = run("daemon", "stop")
    assert stopped.returncode == 0, stopped.stderr
    assert (home / "logs" / "daemon.log").stat().st_size > 0
    assert (home / "inbox").is_dir()  # made by the inbox job
    assert readable_by_others(home) == []
