"""What one consolidation run did: each memory's move between tiers, and what it made."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class Move:
    memory_id: int
    before: str  # tier
    after: str  # tier, or "forgotten"
    reason: str  # decay | budget | duplicate
    retention: float
    label: str


@dataclass
class ConsolidationReport:
    now: float
    summarizer: str
    moves: list[Move] = field(default_factory=list)
    summaries: list[int] = field(default_factory=list)
    merged: list[tuple[int, int]] = field(default_factory=list)  # (kept, merged away)
    facts: list[int] = field(default_factory=list)  # facts made
    facts_unsupported: int = 0  # dropped: words or numbers their sources do not hold, or cut off
    facts_misattributed: int = 0  # dropped: one speaker's act told as another's
    facts_duplicates: int = 0  # dropped: said already
    fact_updates: list[tuple[int, int]] = field(default_factory=list)  # (newer, older) facts
    fact_episodes: int = 0  # episodes read for facts
    times_read: int = 0  # memories read for words naming another time
    times_found: list[int] = field(default_factory=list)  # memories whose time words were kept
    rated: int = 0
    words_cut: list[int] = field(default_factory=list)  # memories whose words gave way to a gist
    bytes_before: int = 0
    bytes_after: int = 0

    def counts(self) -> dict[str, int]:
        tally: dict[str, int] = {}
        for move in self.moves:
            key = f"{move.before} -> {move.after}"
            tally[key] = tally.get(key, 0) + 1
        return tally


def move_label(text: str, width: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"
