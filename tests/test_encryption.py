"""Encryption at rest, against real SQLite3 Multiple Ciphers: nothing of a memory is readable
in the home's files, a wrong or missing passphrase touches nothing, a conversion killed at any
step leaves one whole store, and the daemon and the UI work on an encrypted store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import apsw
import pytest

from agent.service import Papertape
from agent.settings import load_settings
from models.fake_embedder import FakeEmbedder
from storage import MemoryStore, StorageError, store_files
from storage.cipher import Key, KeyNeededError, WrongKeyError, looks_encrypted
from storage.convert import manifest_path, pairs, state
from storage.queue import IngestQueue
from tests.conftest import NOW, PASS
from tests.encryption_support import (
    DAY,
    ROOT,
    FakeTranscriber,
    encrypted_settings,
    leaks,
    new_store,
    snapshot,
    words,
    write_wav,
)

# -- the store's files -----------------------------------------------------------------------


@pytest.mark.needs("rapidocr", "av")
def test_an_encrypted_store_holds_none_of_what_it_was_given(
    home: Path, tmp_path: Path, secret_env: None
) -> None:
    """Notes, a document, a screenshot (real OCR) and a recording, some faded into the cold
    file with rendered pages: no file in the home holds their words or media bytes, while
    the store is open (WALs) and after it is closed."""
    from tests.test_screenshots import screen

    settings = encrypted_settings(home)
    app = Papertape(settings, embedder=FakeEmbedder())
    app.__dict__["transcriber"] = FakeTranscriber("The plumber Bartholomew arrives Thursday")
    try:
        app.note("Dentist appointment moved: Wednesday afternoon, Orthodontics", now=NOW)
        app.note("Alice's new address: Pemberton Crescent, Kingsbridge", now=NOW)
        document = tmp_path / "trip.md"
        document.write_text("Itinerary for Reykjavik\n\n" + "Glacier excursion booked. " * 80)
        shot = screen(tmp_path / "s.png", ["Flight BA117 Copenhagen boarding gate 22"], app="Mail")
        wav = write_wav(tmp_path / "memo.wav")
        results = app.ingest([document, shot, wav], now=NOW)
        assert [r.status for r in results] == ["stored"] * 3, [r.reason for r in results]
        app.consolidate(now=NOW + 30 * DAY)  # the store ages: hazy rows, pages, summaries
        memories = list(app.store.iter_memories())
        assert {m.tier for m in memories} >= {"hazy"}
        needles = [w for m in memories for w in words(m.text)]
        assert b"Bartholomew" in needles
        assert b"Pemberton" in needles
        assert b"Copenhagen" in needles
        blobs = [
            blob.data
            for m in memories
            for role in ("media", "thumbnail", "page")
            if (blob := app.store.blob(m.id, role)) is not None and len(blob.data) >= 64
        ]
        assert blobs, "the recording, thumbnail or pages were stored"
        needles += [b[16:48] for b in blobs]  # a slice of each blob's bytes
        assert leaks(home, needles) == []  # open: the WALs hold the latest pages
    finally:
        app.close()
    assert leaks(home, needles) == []
    for file in store_files(settings.store_path)[::3]:
        assert looks_encrypted(file.read_bytes()[:100])
    plain = load_settings(home, overrides={"embedder": "fake"})
    with Papertape(plain, embedder=FakeEmbedder()) as again:
        assert again.unlocked.origin == "environment"
        assert again.store.count() == len(memories)  # and the key opens it all again


def test_the_same_test_finds_a_plain_stores_text(home: Path) -> None:
    """The byte search above can fail: on a plain store it finds the note."""
    settings = load_settings(home, overrides={"embedder": "fake"})
    with Papertape(settings, embedder=FakeEmbedder()) as app:
        app.note("Alice's new address: Pemberton Crescent, Kingsbridge", now=NOW)
        assert app.unlocked.key is None
    assert leaks(home, [b"Pemberton"]) != []


def test_a_wrong_or_missing_key_is_refused_and_nothing_is_touched(tmp_path: Path) -> None:
    path = tmp_path / "h" / "papertape.db"
    new_store(path, Key(PASS))
    before = snapshot(path.parent)
    with pytest.raises(WrongKeyError, match="does not open"):
        MemoryStore.open(path, vector_dim=8, embedder="fake", key=Key("wrong horse battery"))
    with pytest.raises(KeyNeededError, match="is encrypted"):
        MemoryStore.open(path, vector_dim=8, embedder="fake")
    with pytest.raises(WrongKeyError):
        IngestQueue.open(path, key=Key("wrong horse battery"))
    assert snapshot(path.parent) == before
    assert state(path) == "encrypted"


def test_the_cold_file_is_keyed_and_read_without_mmap(tmp_path: Path) -> None:
    """sqlite3mc turns memory-mapped reads off for encrypted files: the cold file is read
    with read() calls, one a page, where the plain store reads it through its mapping."""
    if not Path("/proc/self/io").exists():
        pytest.skip("needs /proc/self/io")

    def reads_for_a_scan(key: Key | None, name: str) -> int:
        path = tmp_path / name / "papertape.db"
        with MemoryStore.open(path, vector_dim=8, embedder="fake", key=key) as store:
            with store.transaction():
                store.conn.execute(
                    "CREATE TABLE IF NOT EXISTS cold.filler (b BLOB)"
                )  # a few hundred pages to scan
                store.conn.executemany(
                    "INSERT INTO cold.filler VALUES (randomblob(12000))", [()] * 100
                )
            store.checkpoint()
        with MemoryStore.open(path, vector_dim=8, embedder="fake", key=key) as store:
            list(store.conn.execute("PRAGMA cold.cache_size=0"))

            def syscr() -> int:
                lines = Path("/proc/self/io").read_text().splitlines()
                return int(dict(line.split(": ") for line in lines)["syscr"])

            start = syscr()
            list(store.conn.execute("SELECT sum(length(b)) FROM cold.filler"))
            return syscr() - start

    assert reads_for_a_scan(None, "plain") < 20
    assert reads_for_a_scan(Key(PASS), "encrypted") > 100


def test_fts5_secure_delete_and_wal_hold_on_an_encrypted_store(tmp_path: Path) -> None:
    path = tmp_path / "h" / "papertape.db"
    new_store(path, Key(PASS))
    with MemoryStore.open(path, vector_dim=8, embedder="fake", key=Key(PASS)) as store:
        assert next(iter(store.conn.execute("PRAGMA main.journal_mode")))[0] == "wal"
        assert next(iter(store.conn.execute("PRAGMA cold.journal_mode")))[0] == "wal"
        assert next(iter(store.conn.execute("PRAGMA secure_delete")))[0] == 1
        assert next(iter(store.conn.execute("PRAGMA cold.page_size")))[0] == 16 * 1024
        assert store.keyword_search(["okapi"], 50)
        store.delete([2])
        assert 2 not in {i for i, _ in store.keyword_search(["okapi"], 50)}
        assert store.integrity_check() == "ok"


# -- conversions -----------------------------------------------------------------------------

KILLER = """
import sys, time
from pathlib import Path
from storage.cipher import Key
from storage.convert import convert
stop_at = sys.argv[2]
def pause(stage):
    if stage == stop_at:
        print("at", stage, flush=True)
        time.sleep(120)
convert(Path(sys.argv[1]), None, Key(sys.argv[3]), pause)
"""

STAGES = ["copied main", "copied cold", "checked", "manifest written", "main file swapped"]


@pytest.mark.parametrize("stage", STAGES)
def test_a_conversion_killed_at_any_step_leaves_one_whole_store(tmp_path: Path, stage: str) -> None:
    path = tmp_path / "h" / "papertape.db"
    new_store(path, None)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-c", KILLER, str(path), stage, PASS],
        stdout=subprocess.PIPE,
        env=env,
        cwd=ROOT,
    )
    assert child.stdout is not None
    assert child.stdout.readline().decode().strip() == f"at {stage}"
    child.send_signal(signal.SIGKILL)
    child.wait()
    # Before the manifest, the plain store stands; from it on, the encrypted one.
    done = STAGES.index(stage) >= STAGES.index("manifest written")
    assert state(path) == ("encrypted" if done else "plain")
    key = Key(PASS) if done else None
    with MemoryStore.open(path, vector_dim=8, embedder="fake", key=key) as store:
        assert store.count() == 20
        assert store.get(1) is not None
        assert store.get(1).tier == "hazy"  # type: ignore[union-attr]
        assert store.integrity_check() == "ok"
    leftovers = [copy for copy, _ in pairs(path) if copy.exists()]
    assert leftovers == []
    assert not manifest_path(path).exists()


def test_a_copy_that_does_not_check_out_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storage import convert as convert_module

    path = tmp_path / "h" / "papertape.db"
    new_store(path, None)
    monkeypatch.setattr(convert_module, "_summary", _changing_summary())
    with pytest.raises(StorageError, match="does not hold"):
        convert_module.convert(path, None, Key(PASS))
    assert state(path) == "plain"
    assert [copy for copy, _ in pairs(path) if copy.exists()] == []


def _changing_summary() -> Callable[[apsw.Connection], tuple[int, ...]]:
    calls = iter(range(100))
    return lambda conn: (next(calls),)


# -- the command line ------------------------------------------------------------------------


def test_encrypt_passphrase_decrypt_round_trip(
    cli, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("note", "Tulip bulbs go in before the first frost").code == 0
    monkeypatch.setenv("PAPERTAPE_PASSPHRASE", PASS)
    result = cli("encrypt")
    assert result.code == 0, result.err
    assert "ChaCha20" in result.out
    assert "plaintext" in result.err
    assert leaks(home, [b"frost"]) == []
    assert cli("encrypt").code == 2  # already encrypted: one sentence
    assert "already encrypted" in cli("encrypt").err
    monkeypatch.setenv("PAPERTAPE_NEW_PASSPHRASE", "a brand new passphrase")
    assert cli("passphrase").code == 0
    old = cli("recall", "tulip", "--peek")
    assert old.code == 2
    assert "does not open" in old.err
    assert "Traceback" not in old.err
    monkeypatch.setenv("PAPERTAPE_PASSPHRASE", "a brand new passphrase")
    assert "Tulip" in cli("recall", "tulip", "--peek").out
    exported = cli("export")
    assert "Tulip" in exported.out
    assert "plaintext" in exported.err
    refused = cli("decrypt")  # stdin is not a terminal: --yes is needed
    assert refused.code == 2
    assert "--yes" in refused.err
    assert cli("decrypt", "--yes").code == 0
    assert state(home / "papertape.db") == "plain"
    assert cli("decrypt", "--yes").code == 2
    monkeypatch.delenv("PAPERTAPE_PASSPHRASE")
    assert "Tulip" in cli("recall", "tulip", "--peek").out


def test_init_encrypt_and_its_mistakes(cli, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = cli("init", "--encrypt")  # not a terminal, no PAPERTAPE_PASSPHRASE
    assert missing.code == 2
    assert "PAPERTAPE_PASSPHRASE" in missing.err
    assert not (home / "papertape.db").exists()
    monkeypatch.setenv("PAPERTAPE_PASSPHRASE", "short")
    assert "at least 8" in cli("init", "--encrypt").err
    monkeypatch.setenv("PAPERTAPE_PASSPHRASE", PASS)
    assert cli("init", "--encrypt").code == 0
    assert state(home / "papertape.db") == "encrypted"
    again = cli("init", "--encrypt")
    assert again.code == 2
    assert "already exists" in again.err
    assert cli("note", "Marigolds by the gate").code == 0
    monkeypatch.delenv("PAPERTAPE_PASSPHRASE")
    before = snapshot(home)
    for command in (("stats",), ("recall", "marigolds"), ("export",), ("doctor", "--check")):
        result = cli(*command)
        assert result.code == 2, command
        assert "PAPERTAPE_PASSPHRASE" in result.err
        assert result.err.count("\n") == 1
    monkeypatch.setenv("PAPERTAPE_PASSPHRASE", "wrong horse battery")
    wrong = cli("stats")
    assert wrong.code == 2
    assert "does not open" in wrong.err
    assert snapshot(home) == before  # nothing touched
    monkeypatch.setenv("PAPERTAPE_PASSPHRASE", PASS)
    assert cli("doctor", "--check").code == 0
    doctor = cli("doctor")
    assert "encrypted, chacha20" in doctor.out
    assert "PAPERTAPE_PASSPHRASE" in doctor.out


# -- the daemon and the UI -------------------------------------------------------------------
