"""Recall fusion and strengthening, with the deterministic fake embedder over a real store."""

from __future__ import annotations

import pytest

from agent.retention import DAY
from agent.service import Papertape
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
    assert hits[0].vector_rank == 1 and hits[0].keyword_rank == 1
    assert len(hits) == 2


def test_modes_use_one_signal_each(filled: Papertape) -> None:
    keyword = filled.recall("coffee", now=NOW, mode="keyword", strengthen=False)
    assert [h.memory.text for h in keyword] == ["buy oat milk and coffee"]
    assert all(h.vector_rank is None for h in keyword)
    vector = filled.recall("coffee", now=NOW, mode="vector", strengthen=False)
    assert all(h.keyword_rank is None for h in vector) and len(vector) == 4


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
    assert recalled.recall_count == 1 and recalled.last_recalled_at == later
    assert recalled.strength > hits[0].memory.strength
    others = [m for m in filled.store.iter_memories() if m.id != recalled.id]
    assert all(m.recall_count == 0 and m.last_recalled_at is None for m in others)


def test_peek_does_not_strengthen(filled: Papertape) -> None:
    filled.recall("dentist", now=NOW + DAY, k=4, strengthen=False)
    assert all(m.recall_count == 0 for m in filled.store.iter_memories())


def test_documents_return_passages_not_the_title_row(app: Papertape, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "doc.md"
    path.write_text(
        "# Garden plan\n\n" + "\n\n".join(f"Plant tomatoes in bed {i}. " * 10 for i in range(10))
    )
    app.ingest([path], now=NOW)
    hits = app.recall("garden tomatoes", now=NOW, k=20, strengthen=False)
    assert hits and all(h.memory.kind == "text" for h in hits)
