from __future__ import annotations

import math
from dataclasses import replace

import pytest

from agent.memory.retention import DAY, KIND_PACE, initial_strength, retention, strengthened
from storage import Memory


def memory(strength: float, last: float | None = None, ingested: float = 0.0) -> Memory:
    return Memory(
        id=1,
        kind="text",
        source="s",
        occurred_at=0.0,
        ingested_at=ingested,
        content_hash="h",
        text="t",
        tier="sharp",
        importance=0.5,
        strength=strength,
        last_recalled_at=last,
        recall_count=0,
        pinned=False,
        vector_bytes=0,
    )


def test_retention_is_exp_minus_t_over_s_times_the_kinds_pace() -> None:
    # DESIGN.md: R = exp(-t / S), not MemoryBank's exp(-t / 5*S); S is stretched by the
    # kind's pace (a note: 4). At t = S * pace, R = 1/e.
    pace = KIND_PACE["text"]
    assert retention(memory(10.0), 10 * pace * DAY) == pytest.approx(math.exp(-1))
    assert retention(memory(10.0), 0.0) == 1.0
    assert retention(memory(20.0), 10 * DAY) > retention(memory(10.0), 10 * DAY)


def test_time_runs_from_the_last_recall() -> None:
    assert retention(memory(5.0, last=30 * DAY), 30 * DAY) == 1.0


def test_importance_raises_initial_strength() -> None:
    assert initial_strength(1.0, 7.0) == 21.0
    assert initial_strength(0.0, 7.0) == 7.0


def test_recall_strengthens_more_when_nearly_forgotten() -> None:
    fresh = strengthened(memory(10.0), 0.0, growth=2.0)
    faded = strengthened(memory(10.0), 100 * DAY, growth=2.0)
    assert fresh == 10.0  # recalled the moment it was stored: nothing to relearn
    assert 19.0 < faded <= 20.0


def test_what_the_person_stored_outlasts_screens_and_chat() -> None:
    def lasting(kind: str) -> float:
        return retention(replace(memory(10.0), kind=kind), 30 * DAY)

    assert lasting("fact") > lasting("text") > lasting("audio") > lasting("screenshot")
    assert lasting("text") > lasting("chat")
