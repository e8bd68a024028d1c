"""Recall fusion and strengthening, with the deterministic fake embedder over a real store."""

from __future__ import annotations

import numpy as np
import pytest

from agent.answer.recall import recall
from agent.memory.retention import DAY, retention
from agent.service import Papertape
from agent.settings import load_settings
from models.embedder import embed_one
from storage import MemoryStore, NewMemory
from tests.conftest import NOW


@pytest.fixture
def filled(app: Papertape) -> Papertape:
    for text in [
        "dentist appointment moved to thursday",
        "alice moved to elm street",
        "buy oat milk and coffee",
        "the quarterly report is due friday",
    ]:
        app.note(text, now=NOW)
    return app


def test_fused_recall_ranks_the_matching_memory_first(filled: Papertape) -> None:
    hits = filled.recall("when is the dentist appointment", now=NOW, k=2)
    assert hits[0].memory.text == "dentist appointment moved to thursday"
    assert hits[0].vector_rank == 1
    assert hits[0].keyword_rank == 1
    assert len(hits) == 2


def test_modes_use_one_signal_each(filled: Papertape) -> None:
    keyword = filled.recall("coffee", now=NOW, mode="keyword", strengthen=False)
    assert [h.memory.text for h in keyword] == ["buy oat milk and coffee"]
    assert all(h.vector_rank is None for h in keyword)
    vector = filled.recall("coffee", now=NOW, mode="vector", strengthen=False)
    assert all(h.keyword_rank is None for h in vector)
    assert len(vector) == 4


def test_a_keyword_only_match_still_surfaces_in_fused(app: Papertape) -> None:
    for i in range(30):
        app.note(f"filler memory {i} about weather and gardens", now=NOW)
    app.note("xylophone lesson on saturday", now=NOW)
    hits = app.recall("xylophone", now=NOW, k=3, strengthen=False)
    assert hits[0].memory.text == "xylophone lesson on saturday"


def test_retention_breaks_ties_toward_the_fresher_memory(app: Papertape) -> None:
    old = app.note("team meeting notes", now=NOW - 60 * DAY, occurred_at=NOW - 60 * DAY)
    new = app.note("team meeting notes!", now=NOW, occurred_at=NOW)
    hits = app.recall("team meeting notes", now=NOW, k=2, mode="fused", strengthen=False)
    assert {h.memory.id for h in hits} == {old.memory_id, new.memory_id}
    assert hits[0].retention > hits[1].retention
    assert hits[0].memory.id == new.memory_id


def test_recall_strengthens_returned_memories_only(filled: Papertape) -> None:
    later = NOW + 30 * DAY
    hits = filled.recall("dentist", now=later, k=1)
    recalled = filled.store.get(hits[0].memory.id)
    assert recalled is not None
    assert recalled.recall_count == 1
    assert recalled.last_recalled_at == later
    assert recalled.strength > hits[0].memory.strength
    others = [m for m in filled.store.iter_memories() if m.id != recalled.id]
    assert all(m.recall_count == 0 and m.last_recalled_at is None for m in others)


def test_peek_does_not_strengthen(filled: Papertape) -> None:
    filled.recall("dentist", now=NOW + DAY, k=4, strengthen=False)
    assert all(m.recall_count == 0 for m in filled.store.iter_memories())


def test_documents_return_passages_not_the_title_row(app: Papertape, tmp_path) -> None:
    path = tmp_path / "doc.md"
    path.write_text(
        "# Garden plan\n\n" + "\n\n".join(f"Plant tomatoes in bed {i}. " * 10 for i in range(10))
    )
    app.ingest([path], now=NOW)
    hits = app.recall("garden tomatoes", now=NOW, k=20, strengthen=False)
    assert hits
    assert all(h.memory.kind == "text" for h in hits)


class FixedQuery:
    """A logic fake embedder: every text is the same unit vector, so cosines are known exactly."""

    name, dim = "fixed", 384

    def embed(self, texts):
        return np.stack([at_cosine(1.0) for _ in texts])


def at_cosine(cosine: float) -> np.ndarray:
    """A unit vector whose cosine with FixedQuery's vector is `cosine`."""
    vector = np.zeros(384, dtype=np.float32)
    vector[0], vector[1] = cosine, np.sqrt(1 - cosine**2)
    return vector


def walrus_ranking(store: MemoryStore, tmp_path, overrides: dict, now: float) -> list[int]:
    """Ids recall ranks for "walrus" over FixedQuery vectors, with these settings."""
    settings = load_settings(tmp_path, overrides=overrides, env={})
    hits = recall(store, FixedQuery(), "walrus", settings=settings, now=now, strengthen=False)
    return [h.memory.id for h in hits]


def test_near_equal_cosines_do_not_outvote_a_strong_keyword_match(tmp_path) -> None:
    """Vectors that barely tell two memories apart must not beat BM25's clear choice."""
    with MemoryStore.open(tmp_path / "s.db", vector_dim=384, embedder="fixed") as store:
        with store.transaction():
            # Cosines to the query all within 0.003 of each other: B > D > A.
            keyword = store.add(
                NewMemory("text", "t", 1.0, 1.0, "a", "the walrus sang opera", 7.0),
                at_cosine(0.955),
            )
            store.add(
                NewMemory("text", "t", 1.0, 1.0, "d", "walrus walrus walrus", 7.0),
                at_cosine(0.9565),
            )
            vector_only = store.add(
                NewMemory("text", "t", 1.0, 1.0, "b", "a quiet afternoon", 7.0), at_cosine(0.958)
            )
        for floor, above, below in ((0.2, keyword, vector_only), (0.0, vector_only, keyword)):
            order = walrus_ranking(store, tmp_path, {"vector_min_spread": floor}, now=2.0)
            assert order.index(above) < order.index(below), floor


def test_a_clear_keyword_winner_outvotes_the_vectors_favourite(tmp_path) -> None:
    """BM25 counts for more the further its best match stands above the second."""
    filler = " ".join(f"word{i}" for i in range(40))
    with MemoryStore.open(tmp_path / "s.db", vector_dim=384, embedder="fixed") as store:
        with store.transaction():
            # Lowest cosine, but by far the best keyword match.
            keyword = store.add(
                NewMemory("text", "t", 1.0, 1.0, "k", "walrus walrus", 7.0), at_cosine(0.7)
            )
            store.add(
                NewMemory("text", "t", 1.0, 1.0, "w", f"walrus {filler}", 7.0), at_cosine(0.8)
            )
            # The vectors' favourite, with no keyword; newer, so it wins a tie.
            vector = store.add(
                NewMemory("text", "t", 2.0, 2.0, "v", "a quiet afternoon", 7.0), at_cosine(0.9)
            )
        for confidence, above, below in ((1.0, keyword, vector), (0.0, vector, keyword)):
            order = walrus_ranking(store, tmp_path, {"keyword_confidence": confidence}, now=3.0)
            assert order.index(above) < order.index(below), confidence


def add_fact(app: Papertape, text: str, sources: list[int], at: float = NOW) -> int:
    """A fact as consolidation writes one: kind fact, linked derived_from its source lines."""
    with app.store.transaction():
        fact = app.store.add(
            NewMemory("fact", "facts", at, at, f"fact:{text}", text, 30.0),
            embed_one(app.embedder, text),
        )
        for position, source in enumerate(sources):
            app.store.link(fact, source, "derived_from", position)
    return fact


def test_a_fact_whose_lines_matched_answers_through_them(app: Papertape) -> None:
    for i in range(10):
        app.note(f"filler note {i} about the weather", now=NOW)
    line = app.note("Anna: we adopted a grey cat, Pixel!", now=NOW).memory_id
    assert line is not None
    fact = add_fact(app, "Anna adopted a grey cat named Pixel.", [line])
    alone = {h.memory.id: h.score for h in app.recall("grey cat Pixel", now=NOW, strengthen=False)}
    assert line in alone
    assert fact not in alone  # the line it was drawn from stands for it
    app.store.delete([line])
    after = [h.memory.id for h in app.recall("grey cat Pixel", now=NOW, strengthen=False)]
    assert after[0] == fact  # with its line gone, the fact answers


def test_recalling_a_line_strengthens_the_facts_drawn_from_it(app: Papertape) -> None:
    line = app.note("Anna: we adopted a grey cat, Pixel!", now=NOW).memory_id
    other = app.note("filler note about the weather", now=NOW).memory_id
    assert line is not None
    assert other is not None
    fact = add_fact(app, "Anna adopted a grey cat named Pixel.", [line])
    unrelated = add_fact(app, "It rained.", [other])
    later = NOW + 30 * DAY
    hits = [h.memory.id for h in app.recall("grey cat Pixel", now=later, k=1)]
    assert hits == [line]  # the fact answered through its line, so it is not listed
    got = app.store.get_many([line, fact, unrelated])
    assert got[fact].recall_count == 1
    assert got[fact].last_recalled_at == later
    assert got[line].recall_count == 1
    assert got[unrelated].recall_count == 0


def test_the_fact_that_holds_now_comes_before_the_one_it_replaced(app: Papertape) -> None:
    for i in range(10):
        app.note(f"filler note {i} about the weather", now=NOW)
    old = add_fact(app, "Ana's dentist appointment is on Tuesday 13 May at 10:30.", [])
    new = add_fact(app, "Ana moved it to Thursday.", [], at=NOW + DAY)
    with app.store.transaction():
        app.store.link(new, old, "supersedes")
    hits = [h.memory.id for h in app.recall("dentist appointment Tuesday", now=NOW + DAY)]
    assert hits.index(new) == hits.index(old) - 1
    # Found for the older one when the query does not find it itself.
    settings = load_settings(app.settings.home, overrides={"recall_candidates": 1}, env={})
    hits = [
        h.memory.id
        for h in recall(app.store, app.embedder, "dentist", settings=settings, now=NOW + DAY)
    ]
    assert hits[:2] == [new, old]


def test_a_fact_whose_lines_did_not_match_stands_for_itself(app: Papertape) -> None:
    line = app.note("Anna: we adopted a grey cat, Pixel!", now=NOW).memory_id
    assert line is not None
    for i in range(10):
        app.note(f"filler note {i} about the weather", now=NOW)
    fact = add_fact(app, "Anna took Pixel to the veterinarian in May.", [line])
    settings = load_settings(app.settings.home, overrides={"recall_candidates": 1}, env={})
    hits = recall(
        app.store, app.embedder, "veterinarian", settings=settings, now=NOW, strengthen=False
    )
    assert fact in [h.memory.id for h in hits]
    assert line not in [h.memory.id for h in hits]


def test_a_fact_ranks_as_recent_as_its_freshest_line(app: Papertape) -> None:
    old = app.note("Bo: the ferry leaves at six", now=NOW - 90 * DAY, occurred_at=NOW - 90 * DAY)
    newer = app.note("Bo: see you on deck", now=NOW - 30 * DAY, occurred_at=NOW - 30 * DAY)
    assert old.memory_id is not None
    assert newer.memory_id is not None
    fact = add_fact(app, "Bo takes the Hiddensee ferry at six.", [old.memory_id, newer.memory_id])
    settings = load_settings(app.settings.home, overrides={"recall_candidates": 1}, env={})
    (hit,) = recall(
        app.store, app.embedder, "Hiddensee", settings=settings, now=NOW, k=1, strengthen=False
    )
    assert hit.memory.id == fact
    lines = app.store.get_many([old.memory_id, newer.memory_id])
    assert hit.retention == pytest.approx(retention(lines[newer.memory_id], NOW))
    assert hit.retention < retention(hit.memory, NOW)  # its own fading is slower


def _lines(app: Papertape, said: list[tuple[str, str]], source: str) -> list[int]:
    ids = []
    for second, (speaker, text) in enumerate(said):
        result = app.note(
            text, now=NOW, occurred_at=NOW - DAY + second, source=source, speaker=speaker
        )
        assert result.memory_id is not None
        ids.append(result.memory_id)
    return ids


def _similarity(app: Papertape, query: str, memory_id: int, **overrides: str) -> float | None:
    settings = load_settings(app.settings.home, overrides={"embedder": "fake", **overrides}, env={})
    hits = recall(
        app.store,
        app.embedder,
        query,
        settings=settings,
        now=NOW,
        mode="vector",
        k=50,
        strengthen=False,
    )
    return next((h.similarity for h in hits if h.memory.id == memory_id), None)


def test_a_reply_is_found_through_the_line_it_answers(app: Papertape) -> None:
    for i in range(20):
        app.note(f"filler note {i} about the weather", now=NOW)
    asked, reply = _lines(
        app,
        [("Bo", "did you go camping at the lake?"), ("Anna", "yes, last weekend, rain all night")],
        "chat-bo",
    )
    own = _similarity(app, "camping at the lake", reply, reply_context="false")
    with_asked = _similarity(app, "camping at the lake", reply)
    assert own is not None
    assert with_asked is not None
    assert own < 0.2 < with_asked  # the reply shares no word with the query
    ranked = [
        h.memory.id for h in app.recall("camping at the lake", now=NOW, k=2, strengthen=False)
    ]
    assert ranked == [asked, reply]
    # Nothing of the line it answered is stored with the reply: forgotten, it leaves no trace.
    app.forget([asked])
    assert _similarity(app, "camping at the lake", reply) == pytest.approx(own, abs=1e-5)


def test_lines_no_one_is_known_to_have_said_are_read_alone(app: Papertape) -> None:
    app.note("did you go camping at the lake?", now=NOW, occurred_at=NOW - DAY, source="diary")
    later = app.note(
        "yes, last weekend, rain all night", now=NOW, occurred_at=NOW - DAY + 1, source="diary"
    )
    assert later.memory_id is not None
    on = _similarity(app, "camping at the lake", later.memory_id)
    off = _similarity(app, "camping at the lake", later.memory_id, reply_context="false")
    assert on == off


def test_words_joined_by_punctuation_are_searched_as_one_phrase(app: Papertape) -> None:
    for text in (
        "Bob's phone is 555 0142",
        "Carol's phone is 555 0199",
        "bob fixed the bike",
        "my e-mail is on the card",
        "an e and an m on the sign",
        "猫和狗",
    ):
        app.note(text, now=NOW)

    def found(query: str) -> list[str]:
        return [h.memory.text for h in app.recall(query, now=NOW, mode="keyword", strengthen=False)]

    # "bob's" matches Bob's line first and the line with "bob", never Carol's through its "s".
    assert found("bob's") == ["Bob's phone is 555 0142", "bob fixed the bike"]
    assert found("e-mail")[0] == "my e-mail is on the card"
    assert "an e and an m on the sign" not in found("e-mail")
    # A character of an unspaced script is a word, split off by punctuation or not.
    assert found("猫，鱼") == ["猫和狗"]
