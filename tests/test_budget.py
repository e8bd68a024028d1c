"""The byte budget: vectors go first, then words a fact keeps, then memories."""

from __future__ import annotations

from pathlib import Path

from agent.memory.retention import DAY
from tests.conftest import NOW
from tests.lifecycle_support import TRIP, YEARS, episode, make_app


def test_byte_budget_archives_then_forgets_the_least_valuable(home: Path) -> None:
    with make_app(home, byte_budget_mb=0.004) as app:  # 4 KB: room for two sharp memories
        old = episode(app, NOW, TRIP[:2], source="a", facts=None)
        new = episode(app, NOW + 5 * DAY, TRIP[2:], source="b", facts=None)
        report = app.consolidate(now=NOW + 5 * DAY + 3600)
        assert app.stats().bytes <= 4000
        budget_moves = [m for m in report.moves if m.reason == "budget"]
        assert budget_moves
        assert budget_moves[0].memory_id in old
        assert app.store.get(new[0]).tier == "sharp"  # type: ignore[union-attr]
    with make_app(home, byte_budget_mb=0.0001) as app:  # 100 B: even the archive must go
        report = app.consolidate(now=NOW + 5 * DAY + 7200)
        assert any(m.after == "forgotten" and m.reason == "budget" for m in report.moves)
        assert app.stats().bytes <= 100


def test_the_budget_takes_vectors_then_words_then_memories(home: Path) -> None:
    unread_text = "Bought a blue bike. It has a basket and a bell."
    with make_app(home) as app:
        read = episode(app, NOW, TRIP, source="a")  # a fact rests on them: words may leave
        unread = app.note(unread_text, now=NOW + DAY, source="b").memory_id  # not read yet
        full = app.stats().bytes
    # Room for everything once the vectors are bits: they go, and no word is cut.
    with make_app(home, byte_budget_mb=full * 0.5 / 1e6) as app:
        report = app.consolidate(now=NOW + 2 * DAY)
        assert {m.after for m in report.moves if m.reason == "budget"} == {"archive"}
        assert report.words_cut == []
        assert [app.store.get(i).text for i in read] == TRIP  # type: ignore[union-attr]
    with make_app(home) as app:  # everything archived, words whole
        app.consolidate(now=NOW + YEARS)
        assert {m.tier for m in app.store.iter_memories()} == {"archive"}
        squeezed = app.stats().bytes
    # Less room than that: words a fact keeps give way to gists; nothing is forgotten.
    with make_app(home, byte_budget_mb=(squeezed - 40) / 1e6) as app:
        report = app.consolidate(now=NOW + YEARS)
        assert report.words_cut
        assert set(report.words_cut) <= set(read)
        assert not [m for m in report.moves if m.after == "forgotten"]
        for mid in report.words_cut:
            memory = app.store.get(mid)
            assert memory is not None
            assert len(memory.text) < len(TRIP[read.index(mid)])
            assert TRIP[read.index(mid)].startswith(memory.text)
        assert app.store.get(unread).text == unread_text  # type: ignore[arg-type,union-attr]
        facts = [m for m in app.store.iter_memories() if m.kind == "fact"]
        assert facts
        assert all(f.text == " ".join(TRIP) for f in facts)
    # No room at all: memories are forgotten, last of all.
    with make_app(home, byte_budget_mb=0.0001) as app:
        report = app.consolidate(now=NOW + YEARS)
        assert any(m.after == "forgotten" and m.reason == "budget" for m in report.moves)
