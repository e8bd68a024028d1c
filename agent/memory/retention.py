"""The forgetting curve: retention R = exp(-t / S), with S in days.

t runs from the last time the person met the memory: its last recall, else its ingestion.
S starts from importance and grows with each recall, by more the closer the memory was to
being forgotten (the spacing effect): S' = S * (1 + (growth - 1) * (1 - R)). A recall moments
after the last one adds almost nothing, so repeated identical queries cannot inflate strength.

Each kind fades at its own pace (KIND_PACE multiplies S): what the person wrote or filed
lasts far longer than what passed across the screen or what papertape itself said. README's
"How long each kind lasts" gives the reason for each.
"""

from __future__ import annotations

import math

from storage import Memory

DAY = 86_400.0


KIND_PACE: dict[str, float] = {
    "fact": 8.0,  # knowledge consolidation kept: the last thing to fade
    "text": 4.0,  # notes and documents' passages: what the person chose to keep
    "document": 4.0,  # a document's title row (it goes when its passages do)
    "audio": 2.0,  # recordings: chosen, but much of speech is chatter
    "summary": 1.0,  # an episode's summary already holds its members' strength together
    "screenshot": 0.5,  # screen text: incidental, and the same screens come back
    "chat": 0.5,  # papertape's own answers: history, not evidence
}


def pace(kind: str) -> float:
    return KIND_PACE.get(kind, 1.0)


def initial_strength(importance: float, base_days: float) -> float:
    return base_days * (1.0 + 2.0 * importance)


def retention(memory: Memory, now: float) -> float:
    last_seen = (
        memory.last_recalled_at if memory.last_recalled_at is not None else (memory.ingested_at)
    )
    elapsed_days = max(0.0, now - last_seen) / DAY
    return math.exp(-elapsed_days / (memory.strength * pace(memory.kind)))


def strengthened(memory: Memory, now: float, growth: float) -> float:
    return memory.strength * (1.0 + (growth - 1.0) * (1.0 - retention(memory, now)))


# Kinds that are not moved on their own: a document row is the title of its passages.
CONTAINER_KINDS = frozenset({"document"})


def value(memory: Memory, now: float) -> float:
    return retention(memory, now) * (1.0 + memory.importance)
