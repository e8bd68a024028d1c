"""Does a new fact update a stored one (a moved appointment, a new number, a cancelled plan)?

For each new fact, the stored facts nearest in meaning (a few, cosine at least the
`update_min_similarity` setting) that are still current (nothing supersedes them) and were
said no later than it are judged one at a time, nearest first. For each, the model answers
under a small schema what each fact is about, whether that is the same thing, and whether
its value changed; only "the same thing, changed" is an update, and the first such
candidate is the one replaced. A look-alike (a second appointment, a friend's number) is
another thing; a restatement is the same thing unchanged. The caller links an update
`supersedes` the older fact, which stays as history; `ask` shows the newer
(agent/answer/session.py).

When a fact was said is when its latest source happened (a fact's own time is when the thing
happened, which for a plan lies ahead). New facts of one episode are compared with each other
too, a later-said one with those said before it: a moved appointment noted minutes after the
first is one episode, and the model, reading it at once, often writes both times as facts.
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


def newer_versions(store: MemoryStore, memory_id: int) -> list[int]:
    """The ids of the facts that supersede memory `memory_id` (its updates); [] when none."""
    return [link.from_id for link in store.links_to(memory_id) if link.relation == "supersedes"]


def facts_of(store: MemoryStore, memory_id: int) -> list[int]:
    """The facts written from memory `memory_id` (linked derived_from it)."""
    links = store.links_to(memory_id)
    derived = [link.from_id for link in links if link.relation == "derived_from"]
    return [m.id for m in store.get_many(derived).values() if m.kind == "fact"]


def replaced_by(store: MemoryStore, memory: Memory) -> int | None:
    """The newest fact that replaces what `memory` says, or None while it holds: the newest
    that supersedes it; for a line or note that nothing supersedes itself, the newest fact
    superseding its facts when every one of them is superseded (a moved appointment's
    first note). Such a note is history: recall lists it marked so, and `ask` does not show
    it (beside the newer fact, the small model answered from the older note)."""
    itself = newer_versions(store, memory.id)
    if itself or memory.kind == "fact":
        return max(itself, default=None)
    newer = [newer_versions(store, fact) for fact in facts_of(store, memory.id)]
    if not newer or not all(newer):
        return None
    return max(newest_version(store, fact_id) for ids in newer for fact_id in ids)


def restore(store: MemoryStore, memory: Memory) -> list[int]:
    """Undo the updates that replace what `memory` says (a fact's, or its facts' for a line
    or note): it holds again, and the newer facts stay beside it. The ids that no longer
    replace it."""
    held = [memory.id] + ([] if memory.kind == "fact" else facts_of(store, memory.id))
    return sorted({i for held_id in held for i in store.unlink_into(held_id, "supersedes")})


def newest_version(store: MemoryStore, memory_id: int) -> int:
    """The fact that holds now in memory `memory_id`'s line of updates: following newer
    versions to the last (the latest by when it happened, then by id, where two replace
    one); `memory_id` itself when nothing supersedes it."""
    current, seen = memory_id, {memory_id}
    while True:
        found = store.get_many([i for i in newer_versions(store, current) if i not in seen])
        if not found:
            return current
        current = max(found.values(), key=lambda m: (m.occurred_at, m.id)).id
        seen.add(current)


@dataclass(frozen=True)
class Candidate:
    text: str
    said_at: float
    similarity: float
    memory_id: int | None = None  # a stored fact
    index: int | None = None  # or, by its place, a new fact of the same episode said earlier


def earlier_in_episode(
    vector: np.ndarray,
    said_at: float,
    earlier: Sequence[tuple[str, np.ndarray, float]],
    min_similarity: float,
) -> list[Candidate]:
    """Of the episode's new facts (text, unit vector, when said) before this one, the
    nearest said strictly earlier, nearest first, as a stored fact's candidates are chosen."""
    found = [
        Candidate(text, when, similarity, index=index)
        for index, (text, other, when) in enumerate(earlier)
        if when < said_at and (similarity := float(np.dot(vector, other))) >= min_similarity
    ]
    return sorted(found, key=lambda c: -c.similarity)[:UPDATE_CANDIDATES]


class UpdateJudge:
    def __init__(self, store: MemoryStore, generator: Generator, min_similarity: float) -> None:
        self.store = store
        self.generator = generator
        self.min_similarity = min_similarity  # the cosine a stored fact needs to be judged

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
            if memory is None or memory.kind != "fact" or similarity < self.min_similarity:
                continue
            if newer_versions(self.store, memory_id):
                continue  # history already: the current one is compared instead
            when = self.said_at(memory)
            if when <= said_at:
                chosen.append(Candidate(memory.text, when, similarity, memory_id=memory.id))
            if len(chosen) == UPDATE_CANDIDATES:
                break
        return chosen

    def prompt(self, text: str, said_at: float, candidate: Candidate) -> str:
        shown = (
            f"New fact, said on {written_day(said_at)}: {' '.join(text.split())}\n"
            f"Older fact, said on {written_day(candidate.said_at)}: "
            f"{' '.join(candidate.text.split())}"
        )
        return self.generator.format_chat(
            [ChatMessage("system", INSTRUCTIONS), ChatMessage("user", shown)]
        )

    def judge(self, text: str, said_at: float, candidates: Sequence[Candidate]) -> Candidate | None:
        """The first candidate, nearest first, the new fact updates, or None."""
        for candidate in candidates:
            raw = generate(
                self.generator,
                self.prompt(text, said_at, candidate),
                max_tokens=UPDATE_TOKENS,
                schema=update_schema(),
            )
            if read_update(raw):
                return candidate
        return None
