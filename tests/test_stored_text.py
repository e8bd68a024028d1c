"""What a person stored is kept in their words: no dates written into it, and stores whose
text once had dates pinned into it are given their words back."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent.ingest.notes import content_hash
from agent.service import Papertape
from agent.settings import load_settings
from models.fake_embedder import FakeEmbedder

MONDAY = datetime(2023, 5, 8, 13, 56, tzinfo=UTC).timestamp()
LATER = MONDAY + 40 * 86_400


def test_a_relative_date_is_stored_as_written(app: Papertape) -> None:
    text = "Went to the support group last Saturday."
    first = app.note(text, now=MONDAY, occurred_at=MONDAY)
    memory = app.store.get(first.memory_id)  # type: ignore[arg-type]
    assert memory is not None
    assert memory.text == text
    # The same note again, weeks later: the same words, so the same memory.
    again = app.note(text, now=LATER, occurred_at=LATER)
    assert again.memory_id == first.memory_id
    assert app.stats().memories == 1


def _pin(app: Papertape, memory_id: int, pinned: str) -> None:
    """Rewrite a memory as the old ingest stored it: text, content hash and keyword index."""
    memory = app.store.get(memory_id)
    assert memory is not None
    with app.store.transaction() as conn:
        schema = "main" if memory.tier == "sharp" else "cold"
        conn.execute(
            f"UPDATE {schema}.memories SET text = ?, content_hash = ? WHERE id = ?",
            (pinned, content_hash(pinned), memory_id),
        )
        conn.execute(
            "INSERT INTO memory_fts (memory_fts, rowid, text) VALUES ('delete', ?, ?)",
            (memory_id, memory.text),
        )
        conn.execute("INSERT INTO memory_fts (rowid, text) VALUES (?, ?)", (memory_id, pinned))
        conn.execute("DELETE FROM schema_migrations WHERE name = '010_relative_dates_unpinned'")


def test_an_old_store_gets_its_words_back(tmp_path: Path) -> None:
    settings = load_settings(tmp_path / "old", overrides={"embedder": "fake"})
    sharp_text = "We moved last week, and the boxes arrive tomorrow."
    hazy_text = "Dinner at Lupa two weeks ago [with Sam]."
    kept_text = "Rent is due on the [3 May 2023] and [2024] is the lease's end."
    with Papertape(settings, embedder=FakeEmbedder()) as old:
        sharp = old.note(sharp_text, now=MONDAY, occurred_at=MONDAY).memory_id
        hazy = old.note(hazy_text, now=MONDAY, occurred_at=MONDAY).memory_id
        kept = old.note(kept_text, now=MONDAY, occurred_at=MONDAY).memory_id
        assert sharp is not None
        assert hazy is not None
        assert kept is not None
        old.store.move_to_tier(hazy, "hazy")  # its row now lives in the cold file
        _pin(
            old,
            sharp,
            "We moved last week [week of 1 May 2023], and the boxes arrive tomorrow [9 May 2023].",
        )
        _pin(old, hazy, "Dinner at Lupa two weeks ago [week of 24 April 2023] [with Sam].")
    with Papertape(settings, embedder=FakeEmbedder()) as app:
        texts = {m.id: m.text for m in app.store.iter_memories()}
        assert texts == {sharp: sharp_text, hazy: hazy_text, kept: kept_text}
        # The keyword index holds the words again, and not the dates that were pinned.
        assert app.store.keyword_search(["boxes"], 5)[0][0] == sharp
        assert app.store.keyword_search(["april"], 5) == []
        assert [mid for mid, _ in app.store.keyword_search(["lupa"], 5)] == [hazy]
        # The hash is the note's own again: storing the note once more finds it.
        assert app.note(sharp_text, now=LATER, occurred_at=LATER).memory_id == sharp


def test_a_retired_setting_is_ignored_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text("pin_relative_dates = true\nrecall_k = 7\n")
    with caplog.at_level(logging.WARNING):
        settings = load_settings(home, env={})
    assert settings.recall_k == 7
    assert "pin_relative_dates is ignored" in caplog.text
