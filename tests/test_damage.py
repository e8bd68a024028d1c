"""A damaged store is reported, never read as an empty one: one sentence, exit 1."""

from __future__ import annotations

import json
import os
from pathlib import Path

import apsw
import pytest

NOW = "2024-03-01T12:00:00Z"


def fill(cli, count: int = 40) -> None:
    for i in range(count):
        assert cli("note", f"note number {i} about the garden and the shed", "--now", NOW).code == 0


def says_damaged(result) -> bool:
    err = result.err.strip()
    return (
        result.code == 1
        and "damaged" in err
        and "doctor --check" in err
        and "unexpected error" not in err
        and "Traceback" not in err
        and len(err.splitlines()) == 1
    )


def root_page(db: Path, table: str) -> int:
    conn = apsw.Connection(str(db))
    try:
        return int(
            next(iter(conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,))))[
                0
            ]
        )
    finally:
        conn.close()


def flip(path: Path, offset: int, count: int = 64) -> None:
    with open(path, "r+b") as handle:
        handle.seek(offset)
        data = handle.read(count)
        handle.seek(offset)
        handle.write(bytes(b ^ 0xFF for b in data))


def test_an_emptied_store_is_refused_not_started_afresh(cli, home: Path) -> None:
    fill(cli, 3)
    os.truncate(home / "papertape.db", 0)  # truncate -s 0 papertape.db
    stats = cli("stats")
    assert stats.code == 1, stats
    assert "cold file" in stats.err, stats
    assert "restore" in stats.err, stats
    assert "0 memories" not in stats.out
    note = cli("note", "a new first note", "--now", NOW)
    assert note.code == 1
    assert note.out.strip() != "1"
    assert (home / "papertape.db").stat().st_size == 0  # nothing was written over it


def test_a_missing_store_beside_its_cold_file_is_refused(cli, home: Path) -> None:
    fill(cli, 2)
    (home / "papertape.db").unlink()
    assert cli("stats").code == 1
    assert not (home / "papertape.db").exists()


def test_flipped_bytes_are_reported_by_stats_recall_and_doctor(cli, home: Path) -> None:
    fill(cli)
    db = home / "papertape.db"
    # 64 bytes of the keyword index: a page stats never reads, recall does.
    flip(db, (root_page(db, "memory_fts_data") - 1) * 4096)
    for args in (("stats",), ("recall", "garden", "--now", NOW), ("note", "x", "--now", NOW)):
        result = cli(*args)
        assert says_damaged(result), (args, result)
    check = cli("doctor", "--check")
    assert check.code == 1
    assert "DAMAGED" in check.out
    assert "papertape.db" in check.out
    report = cli("doctor", "--check", "--json")
    assert json.loads(report.out)["ok"] is False


def test_damage_found_mid_command_is_the_same_sentence(
    cli, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On a store too large for the check on open, SQLite meets the damage when it reads it.
    import storage.health

    fill(cli)
    db = home / "papertape.db"
    flip(db, (root_page(db, "memory_fts_data") - 1) * 4096)
    monkeypatch.setattr(storage.health, "QUICK_CHECK_MAX_BYTES", 0)
    result = cli("recall", "garden", "--now", NOW, "--mode", "keyword")
    assert says_damaged(result), result


def test_a_file_that_is_not_a_store_is_reported(cli, home: Path) -> None:
    fill(cli, 2)
    (home / "papertape.db").write_bytes(b"this is not a database at all\n" * 200)
    result = cli("stats")
    assert says_damaged(result), result


def test_doctor_check_passes_a_sound_store(cli) -> None:
    fill(cli, 3)
    check = cli("doctor", "--check")
    assert check.code == 0, check
    assert check.out.count("ok") == 2  # the main file and the cold file


def test_the_daemon_answers_damage_with_the_same_sentence(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agent.daemon.client import open_papertape
    from agent.errors import Failure
    from tests.test_daemon import serve_in_thread, settings_for

    serving = serve_in_thread(settings_for(home))
    daemon = next(serving)
    try:

        def damaged_stats() -> None:
            raise apsw.CorruptError("database disk image is malformed")

        monkeypatch.setattr(daemon.app, "stats", damaged_stats)
        remote = open_papertape(daemon.settings)
        with pytest.raises(Failure, match=r"damaged .*doctor --check"):
            remote.stats()
        remote.close()
    finally:
        next(serving, None)
