"""The keyword index in scripts written without spaces: each character is a word, so a
Chinese, Japanese or Thai query finds the lines that hold its words, and forgetting takes
them out again. An older store, indexed by whole runs, is indexed again as it opens."""

from __future__ import annotations

from pathlib import Path

from agent.answer.recall import query_terms
from agent.service import Papertape
from agent.settings import load_settings
from models.fake_embedder import FakeEmbedder
from storage.search import indexed_text
from tests.conftest import NOW

LINES = {
    "zh": "我的牙医预约改到星期四下午三点",
    "ja": "歯医者の予約は木曜日です",
    "th": "นัดหมอฟันวันพฤหัสบดี",
    "en": "the plumber comes on friday",
}


def _found(app: Papertape, query: str) -> list[int]:
    return [memory_id for memory_id, _ in app.store.keyword_search(query_terms(query), 10)]


def _notes(app: Papertape) -> dict[str, int]:
    ids = {}
    for language, text in LINES.items():
        memory_id = app.note(text, now=NOW).memory_id
        assert memory_id is not None
        ids[language] = memory_id
    return ids


def test_a_word_inside_a_sentence_without_spaces_is_found(app: Papertape) -> None:
    ids = _notes(app)
    assert _found(app, "牙医")[0] == ids["zh"]
    assert _found(app, "歯医者")[0] == ids["ja"]
    assert _found(app, "หมอฟัน")[0] == ids["th"]
    assert _found(app, "plumber") == [ids["en"]]
    # Text in a spaced script is indexed as it was written.
    assert indexed_text(LINES["en"]) == LINES["en"]


def test_forgetting_takes_every_character_out_of_the_index(app: Papertape) -> None:
    ids = _notes(app)
    app.store.move_to_tier(ids["ja"], "hazy")  # its row in the cold file
    app.forget([ids["zh"], ids["ja"]])
    assert _found(app, "牙医预约") == []
    assert _found(app, "歯医者") == []
    assert _found(app, "หมอฟัน") == [ids["th"]]


def test_an_older_store_is_indexed_again_by_character(tmp_path: Path) -> None:
    settings = load_settings(tmp_path / "old", overrides={"embedder": "fake"})
    with Papertape(settings, embedder=FakeEmbedder()) as old:
        ids = _notes(old)
        old.store.move_to_tier(ids["th"], "hazy")
        # As a store was before migration 013: each text indexed as written, whole runs.
        with old.store.transaction() as conn:
            for language in ("zh", "ja", "th"):
                text = LINES[language]
                conn.execute(
                    "INSERT INTO memory_fts (memory_fts, rowid, text) VALUES ('delete', ?, ?)",
                    (ids[language], indexed_text(text)),
                )
                conn.execute(
                    "INSERT INTO memory_fts (rowid, text) VALUES (?, ?)", (ids[language], text)
                )
            conn.execute("DELETE FROM schema_migrations WHERE name = '013_unspaced_words_indexed'")
        assert _found(old, "牙医") == []  # whole runs: a word inside one is not found
    with Papertape(settings, embedder=FakeEmbedder()) as app:
        assert _found(app, "牙医")[0] == ids["zh"]
        assert _found(app, "หมอฟัน")[0] == ids["th"]
        assert _found(app, "plumber") == [ids["en"]]
        app.forget([ids["zh"], ids["th"]])  # taken out with the text the index holds
        assert ids["zh"] not in _found(app, "牙医预约")  # the Japanese line shares 医
        assert _found(app, "หมอฟัน") == []
