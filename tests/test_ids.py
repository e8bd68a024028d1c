"""Ids are never given twice: not after forget, not after export and import, not after a
store made before the high-water mark is migrated (chat turns and exports quote ids)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.service import Papertape
from agent.settings import load_settings
from models.fake_embedder import FakeEmbedder
from tests.conftest import NOW


def note(cli, text: str, *home: str) -> int:
    result = cli("note", text, *home)
    assert result.code == 0, result.err
    return int(result.out.strip())


def test_a_forgotten_id_is_never_given_again(cli) -> None:
    assert [note(cli, t) for t in ("a", "b", "c")] == [1, 2, 3]
    assert cli("forget", "3", "--yes").code == 0
    assert note(cli, "d") == 4
    assert cli("forget", "4", "--yes").code == 0
    assert cli("forget", "2", "--yes").code == 0
    assert note(cli, "e") == 5


def test_the_mark_travels_through_export_and_import(cli, tmp_path: Path) -> None:
    for text in ("a", "b", "c"):
        note(cli, text)
    cli("forget", "3", "--yes")
    backup = tmp_path / "backup.jsonl"
    exported = cli("export", "-o", str(backup))
    assert exported.code == 0
    assert "exported 2 memories" in exported.err
    last = json.loads(backup.read_text().splitlines()[-1])
    assert last == {"format": "papertape-store/1", "last_id": 3, "memories": 2}
    other = str(tmp_path / "other")
    imported = cli("import", str(backup), "--home", other)
    assert imported.code == 0, imported.err
    assert "imported 2" in imported.out, imported.err
    assert note(cli, "d", "--home", other) == 4
    # The same file again is all duplicates and moves nothing.
    assert "already present 2" in cli("import", str(backup), "--home", other).out
    assert note(cli, "e", "--home", other) == 5


def test_an_imported_memory_does_not_take_a_forgotten_id(app: Papertape, tmp_path: Path) -> None:
    for text in ("one", "two", "three"):
        app.note(text, now=NOW)
    app.forget([3])
    settings = load_settings(tmp_path / "elsewhere", overrides={"embedder": "fake"})
    with Papertape(settings, embedder=FakeEmbedder()) as source:
        for text in ("x", "y", "z"):
            source.note(text, now=NOW)
        lines = list(source.export())
    app.import_(lines)
    ids = {m.text: m.id for m in app.store.iter_memories()}
    assert ids["one"] == 1
    assert ids["two"] == 2
    assert sorted(ids[t] for t in ("x", "y", "z")) == [4, 5, 6]  # 3 stays unused


def test_a_store_from_before_the_mark_is_migrated(tmp_path: Path) -> None:
    settings = load_settings(tmp_path / "old", overrides={"embedder": "fake"})
    with Papertape(settings, embedder=FakeEmbedder()) as old:
        for text in ("one", "two", "three"):
            old.note(text, now=NOW)
        # As a store made before migration 008 was: no mark, the migration not yet run.
        with old.store.transaction() as conn:
            conn.execute("DELETE FROM store_meta WHERE key = 'last_id'")
            conn.execute("DELETE FROM schema_migrations WHERE name = '008_id_high_water_mark'")
    with Papertape(settings, embedder=FakeEmbedder()) as app:
        assert app.store.meta("last_id") == "3"
        app.forget([3])
        assert app.note("four", now=NOW).memory_id == 4


def test_an_absurd_mark_in_an_import_is_refused(app: Papertape) -> None:
    from agent.errors import UserError

    line = json.dumps({"format": "papertape-store/1", "last_id": 2**63})
    with pytest.raises(UserError, match="out of range"):
        app.import_([line])
    assert app.note("still fine", now=NOW).memory_id == 1
