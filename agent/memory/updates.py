"""Does a new fact update a stored one (a moved appointment, a new number, a cancelled plan)?

For each new fact, the stored facts nearest in meaning (a few, cosine at least
UPDATE_MIN_SIMILARITY) that are still current (nothing supersedes them) and were said no
later than it are judged one at a time, nearest first. For each, the model answers under a
small schema what each fact is about, whether that is the same thing, and whether its value
changed; only "the same thing, changed" is an update, and the first such candidate is the
one replaced. A look-alike (a second appointment, a friend's number) is another thing; a
restatement is the same thing unchanged. The caller links an update `supersedes` the older
fact, which stays as history; `ask` shows the newer (agent/answer/session.py).

When a fact was said is when its latest source happened (a fact's own time is when the thing
happened, which for a plan lies ahead). Facts of the same episode are not compared with each
other: the model reads the whole episode at once and can write the outcome as one fact.
scripts/bench/updates.py measures precision and recall on tests/data/updates.json.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from agent.lines import written_day
from models.generator import ChatMessage, Generator, generate, json_reply
from storage import Memory, MemoryStore

UPDATE_CANDIDATES = 3
# Low on purpose: MiniLM puts "moved to Thursday" well below a restatement; the model decides.
UPDATE_MIN_SIMILARITY = 0.5
SEARCH_POOL = 24  # nearest memories searched to find facts among them
ABOUT_MAX_CHARS = 60
# Room for the whole reply even at a token a character: two descriptions and two booleans.
UPDATE_TOKENS = 2 * ABOUT_MAX_CHARS + 72

# Small models asked "does the new fact replace one of these?" say yes to nearly every
# look-alike. So the question is split into parts the model answers one at a time, each
# about one older fact: what each fact is about, whether that is the very same thing, and
# whether its value changed. Only "the same thing, changed" is an update.
INSTRUCTIONS = (
    "You keep a person's facts up to date. You are shown a new fact and one older fact, "
    'each with the day it was said. Reply in JSON. "new_is_about": the one thing the new '
    'fact is about, with whose it is (for example "Ana\'s dentist appointment"). '
    '"old_is_about": the same for the older fact. "same_thing": true when both are '
    "about the same one thing of the same person, even if its time, place or number is "
    "different now; false when the new fact is about another one of its kind (a second "
    'appointment, a friend\'s number, another trip). "changed": true when the new fact '
    "gives that thing a different value or state than the older one (another time, place, "
    "number or address, or cancelled); false when it says the same again or only adds a "
    "detail."
)


def update_schema() -> dict[str, Any]:
    """The schema of the model's judgement of one older fact."""
    about = {"type": "string", "maxLength": ABOUT_MAX_CHARS}
    return {
        "type": "object",
        "properties": {
            "new_is_about": about,
            "old_is_about": about,
            "same_thing": {"type": "boolean"},
            "changed": {"type": "boolean"},
        },
        "required": ["new_is_about", "old_is_about", "same_thing", "changed"],
        "additionalProperties": False,
    }


def read_update(raw: str) -> bool:
    """Whether the reply judges the older fact replaced: the same thing, changed. An
    unreadable reply replaces nothing."""
    data = json_reply(raw)
    return data.get("same_thing") is True and data.get("changed") is True


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

    def prompt(self, text: str, said_at: float, candidate: Candidate) -> str:
        shown = (
            f"New fact, said on {written_day(said_at)}: {' '.join(text.split())}\n"
            f"Older fact, said on {written_day(candidate.said_at)}: "
            f"{' '.join(candidate.memory.text.split())}"
        )
        return self.generator.format_chat(
            [ChatMessage("system", INSTRUCTIONS), ChatMessage("user", shown)]
        )

    def judge(self, text: str, said_at: float, candidates: Sequence[Candidate]) -> int | None:
        """The id of the first candidate, nearest first, the new fact updates, or None."""
        for candidate in candidates:
            raw = generate(
                self.generator,
                self.prompt(text, said_at, candidate),
                max_tokens=UPDATE_TOKENS,
                schema=update_schema(),
            )
            if read_update(raw):
                return candidate.memory.id
        return None
