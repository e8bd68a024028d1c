"""Does a new fact update a stored one (a moved appointment, a new number, a cancelled plan)?

For each new fact, the stored facts nearest in meaning (a few, cosine at least
UPDATE_MIN_SIMILARITY) that are still current (nothing supersedes them) and were said no
later than it are shown to the model beside it, and the model answers under a small schema,
{"updates": one of their ids, or null}: it can name only a fact it was shown, or none. A
look-alike (a second appointment, a friend's number) should get null. The caller links an
update `supersedes` the older fact, which stays as history; `ask` shows the newer
(agent/chat.py).

When a fact was said is when its latest source happened (a fact's own time is when the thing
happened, which for a plan lies ahead). Facts of the same episode are not compared with each
other: the model reads the whole episode at once and can write the outcome as one fact.
scripts/bench_updates.py measures precision and recall on tests/data/updates.json.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from agent.prompt import render_line, written_day
from models.generator import ChatMessage, Generator, generate
from storage import Memory, MemoryStore

UPDATE_CANDIDATES = 3
# Low on purpose: MiniLM puts "moved to Thursday" well below a restatement; the model decides.
UPDATE_MIN_SIMILARITY = 0.5
SEARCH_POOL = 24  # nearest memories searched to find facts among them
UPDATE_TOKENS = 24  # {"updates": 123456} and a little slack

INSTRUCTIONS = (
    "You keep a person's facts up to date. You are shown a new fact and a few older facts, "
    "each older one with its id and the day it was said. Does the new fact replace one of "
    "the older facts, because it says the same thing has changed (an appointment moved to "
    "another time, a new phone number or address, a plan cancelled or changed)? Reply in "
    'JSON: "updates": the id of the older fact it replaces, or null when it replaces none '
    "(for example a second, different appointment, or someone else's number)."
)


def update_schema(shown_ids: Sequence[int]) -> dict[str, Any]:
    """The schema of a reply naming one of `shown_ids`, or null."""
    return {
        "type": "object",
        "properties": {"updates": {"enum": [*dict.fromkeys(shown_ids), None]}},
        "required": ["updates"],
        "additionalProperties": False,
    }


def read_update(raw: str, shown_ids: Sequence[int]) -> int | None:
    """The id the reply names, when it is one shown; None otherwise (or when unreadable)."""
    try:
        data = json.loads(raw, strict=False)
    except ValueError:
        return None
    named = data.get("updates") if isinstance(data, dict) else None
    return named if type(named) is int and named in shown_ids else None


@dataclass(frozen=True)
class Candidate:
    memory: Memory
    said_at: float
    similarity: float


class UpdateJudge:
    def __init__(self, store: MemoryStore, generator: Generator) -> None:
        self.store = store
        self.generator = generator

    def said_at(self, fact: Memory) -> float:
        """When the fact was said: its latest source's time (its own, once none is left)."""
        sources = [
            link.to_id for link in self.store.links_from(fact.id) if link.relation == "derived_from"
        ]
        found = self.store.get_many(sources)
        return max((m.occurred_at for m in found.values()), default=fact.occurred_at)

    def candidates(self, vector: np.ndarray, said_at: float) -> list[Candidate]:
        """The nearest current stored facts said no later than `said_at`, nearest first."""
        hits = self.store.vector_search(vector, SEARCH_POOL)
        found = self.store.get_many([memory_id for memory_id, _ in hits])
        chosen = []
        for memory_id, similarity in hits:
            memory = found.get(memory_id)
            if memory is None or memory.kind != "fact" or similarity < UPDATE_MIN_SIMILARITY:
                continue
            if any(link.relation == "supersedes" for link in self.store.links_to(memory_id)):
                continue  # history already: the current one is compared instead
            when = self.said_at(memory)
            if when <= said_at:
                chosen.append(Candidate(memory, when, similarity))
            if len(chosen) == UPDATE_CANDIDATES:
                break
        return chosen

    def prompt(self, text: str, said_at: float, candidates: Sequence[Candidate]) -> str:
        older = "\n".join(render_line(c.memory.id, c.said_at, c.memory.text) for c in candidates)
        shown = (
            f"New fact, said on {written_day(said_at)}: {' '.join(text.split())}\n\n"
            f"Older facts:\n{older}"
        )
        return self.generator.format_chat(
            [ChatMessage("system", INSTRUCTIONS), ChatMessage("user", shown)]
        )

    def judge(self, text: str, said_at: float, candidates: Sequence[Candidate]) -> int | None:
        """The id of the candidate the new fact updates, or None."""
        ids = [c.memory.id for c in candidates]
        raw = generate(
            self.generator,
            self.prompt(text, said_at, candidates),
            max_tokens=UPDATE_TOKENS,
            schema=update_schema(ids),
        )
        return read_update(raw, ids)
