"""Helpers shared by the lifecycle tests: an app on the fake embedder, episodes read for
facts, a trip's notes and the ages that fade them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from agent.memory.retention import DAY
from agent.service import Papertape
from agent.settings import load_settings
from models.fake_embedder import FakeEmbedder
from tests.conftest import distil, read_without_facts


def make_app(home: Path, **overrides: Any) -> Papertape:
    budget = overrides.pop("byte_budget_mb", None)
    settings = load_settings(
        home, overrides={"embedder": "fake", "summarizer": "extractive", **overrides}
    )
    if budget is not None:  # a few KB, below what a person may set: the budget's steps show
        settings = replace(settings, byte_budget_mb=budget)
    return Papertape(settings, embedder=FakeEmbedder())


def episode(
    app: Papertape,
    at: float,
    texts: Sequence[str],
    source: str = "diary",
    *,
    facts: str | None = "",
) -> list[int]:
    """Notes of one episode, read for facts as consolidation would have: with one fact
    resting on them (its text `facts`, else theirs), or with none (`facts=None`: small talk)."""
    ids = []
    for offset, text in enumerate(texts):
        result = app.note(text, now=at + 60 * offset, occurred_at=at + 60 * offset, source=source)
        assert result.memory_id is not None
        ids.append(result.memory_id)
    if facts is None:
        read_without_facts(app, ids)
    else:
        distil(app, ids, facts, now=at)
    return ids


# A note of middling importance (S = 14 days, pace 4 for notes: agent/memory/retention.py) is hazy
# by HAZY (R = exp(-48/56) < 0.5) and archived by ARCHIVED (R < 0.05).
HAZY = 48 * DAY


ARCHIVED = 240 * DAY


YEARS = 3 * 365 * DAY


TRIP = [
    "Flew to Lisbon with Ana on Friday. The hotel is on Rua Augusta.",
    "Dinner at a tiny fado bar in Alfama. Grilled sardines and green wine.",
    "Took tram 28 up to the castle. The view over the river was stunning.",
]
