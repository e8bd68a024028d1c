"""The memory record and its companions, as frozen dataclasses."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

# A document is the parent of the passages it was split into; the other kinds are DESIGN.md's.
# A fact is a sentence the model wrote at consolidation, derived_from the memories it rests on.
KINDS = ("text", "document", "chat", "audio", "screenshot", "summary", "fact")
TIERS = ("sharp", "hazy", "archive")
# part_of: passage -> document; summarizes / derived_from / supersedes / duplicate_of: later tiers.
RELATIONS = ("part_of", "summarizes", "derived_from", "supersedes", "duplicate_of")


@dataclass(frozen=True)
class NewMemory:
    """What a caller hands the store to write one memory. Times are UTC epoch seconds."""

    kind: str
    source: str
    occurred_at: float
    ingested_at: float
    content_hash: str
    text: str
    strength: float
    importance: float = 0.5
    tier: str = "sharp"
    pinned: bool = False
    last_recalled_at: float | None = None
    recall_count: int = 0
    id: int | None = None  # set only to keep an id on import

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown kind {self.kind!r}; valid kinds: {', '.join(KINDS)}")
        if self.tier not in TIERS:
            raise ValueError(f"unknown tier {self.tier!r}; valid tiers: {', '.join(TIERS)}")
        if not 0.0 <= self.importance <= 1.0:
            raise ValueError(f"importance must be between 0 and 1, not {self.importance}")
        if not (math.isfinite(self.strength) and self.strength > 0):
            raise ValueError(f"strength must be a positive number, not {self.strength}")
        for name in ("occurred_at", "ingested_at"):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"{name} must be a finite time, not {getattr(self, name)}")
        if self.id is not None and self.id < 1:
            raise ValueError(f"a memory id must be at least 1, not {self.id}")


@dataclass(frozen=True)
class Link:
    from_id: int
    to_id: int
    relation: str
    position: int | None = None


@dataclass(frozen=True)
class Memory:
    id: int
    kind: str
    source: str
    occurred_at: float
    ingested_at: float
    content_hash: str
    text: str
    tier: str
    importance: float
    strength: float
    last_recalled_at: float | None
    recall_count: int
    pinned: bool
    vector_bytes: int


# What a memory's relative time words count in ("yesterday": day -1; "last Saturday":
# saturday -1), read by the model at consolidation (agent/memory/times.py).
TIME_UNITS = (
    "day",
    "week",
    "weekend",
    "month",
    "year",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)


@dataclass(frozen=True)
class TimeWords:
    """Words in a memory's text that name another time than its own ("last week"), and that
    time as a count of units from the memory's day. Kept beside the text, never in it."""

    words: str
    unit: str
    offset: int

    def __post_init__(self) -> None:
        if self.unit not in TIME_UNITS:
            raise ValueError(f"unknown time unit {self.unit!r}; valid: {', '.join(TIME_UNITS)}")
        if not self.words:
            raise ValueError("time words must not be empty")


# What a blob is to its memory.
BLOB_ROLES = ("page", "thumbnail", "media")


@dataclass(frozen=True)
class Blob:
    memory_id: int
    role: str
    media_type: str
    data: bytes
    meta: str = "{}"  # JSON: a page's line boxes and font, a thumbnail's size


@dataclass(frozen=True)
class Bucket:
    count: int = 0
    bytes: int = 0


@dataclass(frozen=True)
class StoreStats:
    memories: int
    bytes: int
    file_bytes: int
    tiers: dict[str, Bucket] = field(default_factory=dict)
    kinds: dict[str, Bucket] = field(default_factory=dict)
