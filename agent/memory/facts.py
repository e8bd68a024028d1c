"""Facts: what consolidation keeps of an episode, written by the local model under a schema.

An episode (memories of one source close in time, in order; agent/memory/consolidation.py
groups them) is shown to the model one line a memory, "[12] (Sun 7 May 2023) Caroline:
text", and the model writes facts as JSON the runtime holds it to (`facts_schema`): a
bounded list of {memory_ids, text, date, importance}, where memory_ids is an enum of the ids
shown (a fact cannot cite a memory outside the episode), text and list lengths are bounded
(a model that repeats itself stops at the bound), the date is empty or ISO (YYYY, YYYY-MM
or YYYY-MM-DD) and importance is 1-5. The ids come first, so each fact is written with its
source lines named, speaker and all.

What the model wrote is then checked, in any language, knowing no language's words:
- supported: the words of its date and of the cited memories' days may be said but are not
  content; of the rest (Unicode word runs, a character each in unspaced scripts:
  agent/words.py) there must be some, and at least FACT_WORD_SHARE of them must be in the
  cited memories' text as the model saw it; and every digit run in it must be a number that
  text, those days or its date hold. An unsupported fact is dropped and counted, and so is
  one the schema's length bound cut off, which says less than it meant;
- resting on what it needs: a cited line is let go when another supports the fact alone
  and it does not (`needed_sources`): small models cite the line beside the one they
  read, and forgetting that line must not take the fact;
- told of the right person: a fact naming one of the episode's speakers whose words are
  held most by lines someone else said, lines that do not name that person, gives one
  speaker's act to another (agent/people.py): dropped and counted;
- new: a fact whose normalised words, or whose vector (cosine >= duplicate_similarity), match
  another fact of the episode or a stored fact is a duplicate: dropped, and a stored fact it
  repeats is linked to the new sources too (it rests on both);
- an update: each new fact is compared with its nearest stored facts and the nearest new
  facts of its episode said before it (agent/memory/updates.py).

A fact is a memory of kind `fact`: embedded and keyword-indexed like any memory, linked
derived_from its sources, happening on its date when it has a whole one (else when its
first source happened), with importance from the model's 1-5. An episode's facts, their
links and the mark that its memories were read are written in one transaction, so a run
killed at any moment leaves each episode either read, with all its facts, or unread.
Forgetting a memory on request takes the facts that need it (`forgotten_with`, used by
agent/memory/forgetting.py); consolidation's own forgetting leaves facts be: they outlive
the words. The schema, reading the reply and the support checks are in agent/memory/drafts.py.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, time

import numpy as np

from agent.lines import held_period, render_line, written_day
from agent.memory.drafts import (
    FACT_CHARS,
    FACTS_MAX,
    INSTRUCTIONS,
    Draft,
    fact_hash,
    facts_schema,
    is_supported,
    needed_sources,
    normalised,
    parse_date,
    read_facts,
)
from agent.memory.retention import initial_strength
from agent.memory.updates import UPDATE_CANDIDATES, UpdateJudge, earlier_in_episode
from agent.people import whose_fact
from agent.settings import Settings
from agent.words import words
from models import Embedder
from models.generator import ChatMessage, Generator, generate
from storage import Memory, MemoryStore, NewMemory, TimeWords

log = logging.getLogger(__name__)

FACT_MARK = "facts"  # the memory mark of "read for facts"
# The kinds facts are made from: what the person stored. Chat turns are papertape's own
# answers, summaries and facts are derived, a document row is a title.
SOURCE_KINDS = frozenset({"text", "audio", "screenshot"})
FACT_TOKENS = 1024  # the most a reply may run to (the schema usually ends it sooner)
TOKENS_PER_FACT = 16  # of the source text: bounds the facts asked of a short episode
NEIGHBOURS = 24  # nearest memories searched for a stored fact that says the same


def wordless_screen(store: MemoryStore, memory: Memory) -> bool:
    """A screenshot OCR found no words in: its text is papertape's placeholder, which a
    small model reads as something seen ("a blank screen")."""
    if memory.kind != "screenshot":
        return False
    thumbnail = store.blob(memory.id, "thumbnail")
    return thumbnail is not None and json.loads(thumbnail.meta or "{}").get("lines") == 0


def unread(store: MemoryStore, mark: str) -> list[Memory]:
    """The person's own sharp memories (SOURCE_KINDS) a step has not yet marked `mark`."""
    done = store.marked(mark)
    return [m for m in store.iter_memories("sharp") if m.kind in SOURCE_KINDS and m.id not in done]


# -- making an episode's facts --------------------------------------------------------------


def told_of_another(
    draft: Draft, shown: Mapping[int, str], speakers: Mapping[int, str], people: Sequence[str]
) -> bool:
    """Whether a fact naming one speaker rests on lines neither said by them nor naming them:
    a small model gives one speaker's photo or trip to the other. Lines someone else said
    that name the person may be about them or only said to them; those are let be."""
    sources = {i: shown[i] for i in draft.memory_ids}
    whose = whose_fact(draft.text, sources, speakers, people)
    return whose is not None and whose[1] == "others"


@dataclass(frozen=True)
class EpisodeFacts:
    """What one episode gave."""

    stored: tuple[int, ...]  # ids of the new facts
    unsupported: int  # dropped: words or numbers their sources do not hold, or cut off
    misattributed: int  # dropped: one speaker's act told as another's
    duplicates: int  # dropped: the same as another fact of the episode or a stored one
    updates: tuple[tuple[int, int], ...]  # (new fact, older fact it supersedes)
    calls: int  # model calls made for it


@dataclass(frozen=True)
class _Fact:
    draft: Draft
    vector: np.ndarray
    occurred_at: float
    said_at: float  # when its latest source happened


class FactMaker:
    def __init__(
        self,
        store: MemoryStore,
        embedder: Embedder,
        generator: Generator,
        settings: Settings,
        *,
        max_facts: int = FACTS_MAX,
        max_chars: int = FACT_CHARS,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.generator = generator
        self.settings = settings
        self.max_facts = max_facts
        self.max_chars = max_chars
        self.judge = UpdateJudge(store, generator, settings.update_min_similarity)

    def read(self, episode: Sequence[Memory], now: float) -> EpisodeFacts:
        """Make, check and store the facts of one episode, and mark it read."""
        by_id = {m.id: m for m in episode}
        shown = {m.id: " ".join(m.text.split()) for m in episode}  # as the model sees it
        # A screenshot OCR found no words in holds only papertape's own placeholder: a small
        # model writes facts about "a blank screen" from it. It is read, and not shown.
        worded = [m for m in episode if not wordless_screen(self.store, m)]
        # The days a fact may name without its sources' words saying them: each line's own,
        # and the period its time words name ("last week" said on 9 June 2023).
        times = self.store.times_of(list(by_id))
        periods = {i: held_period(t, by_id[i].occurred_at, by_id[i].text) for i, t in times.items()}
        days = {m.id: f"{written_day(m.occurred_at)} {periods.get(m.id) or ''}" for m in episode}
        drafts: list[Draft] = []
        chunks = self._chunks(worded, shown) if worded else []
        for chunk in chunks:
            drafts += self._ask([by_id[i] for i in chunk], shown, times)
        supported = [
            replace(
                d,
                memory_ids=needed_sources(
                    d.text, d.date, [(i, shown[i], days[i]) for i in d.memory_ids]
                ),
            )
            for d in drafts
            if not d.cut
            and is_supported(
                d.text, d.date, [shown[i] for i in d.memory_ids], [days[i] for i in d.memory_ids]
            )
        ]
        speakers = self.store.speakers_of(list(by_id))
        people = sorted(set(speakers.values()))
        theirs = [d for d in supported if not told_of_another(d, shown, speakers, people)]
        kept, repeats = self._new_facts(theirs, by_id)
        updates: list[tuple[int, int]] = []  # (index in kept, stored fact it updates)
        within: list[tuple[int, int]] = []  # (index in kept, index of the one it updates)
        calls = len(chunks)
        said = [(f.draft.text, f.vector, f.said_at) for f in kept]
        for index, fact in enumerate(kept):
            candidates = sorted(
                self.judge.candidates(fact.vector, fact.said_at)
                + earlier_in_episode(fact.vector, fact.said_at, said, self.judge.min_similarity),
                key=lambda c: -c.similarity,
            )[:UPDATE_CANDIDATES]
            if candidates:
                calls += 1
                older = self.judge.judge(fact.draft.text, fact.said_at, candidates)
                if older is not None and older.memory_id is not None:
                    updates.append((index, older.memory_id))
                elif older is not None and older.index is not None:
                    within.append((index, older.index))
        stored = self._write(episode, kept, repeats, updates, now, within)
        return EpisodeFacts(
            tuple(stored),
            len(drafts) - len(supported),
            len(supported) - len(theirs),
            len(theirs) - len(kept),
            tuple((stored[index], older) for index, older in updates)
            + tuple((stored[index], stored[older]) for index, older in within),
            calls,
        )

    def _chunks(self, episode: Sequence[Memory], shown: dict[int, str]) -> list[list[int]]:
        """The episode's ids in runs whose lines fit the prompt beside room for the reply
        (a text too long for the context alone is cut, in `shown`, to what fits)."""
        count = self.generator.count_tokens
        reply = min(FACT_TOKENS, self.generator.context_tokens // 2)
        room = self.generator.context_tokens - reply - count(self._prompt([])) - 8
        chunks: list[list[int]] = []
        used = 0
        for memory in episode:
            cost = count(render_line(memory.id, memory.occurred_at, shown[memory.id])) + 1
            if cost > room:
                shown[memory.id] = shown[memory.id][: max(80, room * 2)]
                cost = count(render_line(memory.id, memory.occurred_at, shown[memory.id])) + 1
            if chunks and used + cost <= room:
                chunks[-1].append(memory.id)
                used += cost
            else:
                chunks.append([memory.id])
                used = cost
        return chunks

    def _prompt(self, shown: Sequence[str]) -> str:
        return self.generator.format_chat(
            [ChatMessage("system", INSTRUCTIONS), ChatMessage("user", "\n".join(shown))]
        )

    def _ask(
        self, memories: list[Memory], shown: dict[int, str], times: Mapping[int, TimeWords]
    ) -> list[Draft]:
        ids = [m.id for m in memories]
        texts = [shown[m.id] for m in memories]
        prompt = self._prompt(
            [
                render_line(m.id, m.occurred_at, text, times.get(m.id))
                for m, text in zip(memories, texts, strict=True)
            ]
        )
        room = self.generator.context_tokens - self.generator.count_tokens(prompt)
        if room < 16:  # a context too small for even one fact: read, none made
            log.warning("memories %s: the model's context leaves no room for facts", ids)
            return []
        # At most a fact per TOKENS_PER_FACT of what they say: a short episode cannot fill
        # twelve but by repeating itself, which small models do until the bound.
        size = sum(self.generator.count_tokens(text) for text in texts)
        most = min(self.max_facts, max(2, size // TOKENS_PER_FACT))
        schema = facts_schema(ids, max_facts=most, max_chars=self.max_chars)
        raw = generate(self.generator, prompt, max_tokens=min(FACT_TOKENS, room), schema=schema)
        return read_facts(raw, ids, max_chars=self.max_chars)

    def _new_facts(
        self, drafts: list[Draft], by_id: dict[int, Memory]
    ) -> tuple[list[_Fact], dict[int, set[int]]]:
        """The drafts that are new, with their vectors, and for each stored fact a draft
        repeated, the ids of the draft's sources."""
        kept: list[_Fact] = []
        repeats: dict[int, set[int]] = {}
        seen: set[str] = set()
        if not drafts:
            return kept, repeats
        vectors = self.embedder.embed([d.text for d in drafts])
        for draft, vector in zip(drafts, vectors, strict=True):
            key = normalised(draft.text)
            if key in seen or any(
                float(np.dot(vector, other.vector)) >= self.settings.duplicate_similarity
                for other in kept
            ):
                continue
            seen.add(key)
            stored = self._stored_copy(draft.text, vector)
            if stored is not None:
                repeats.setdefault(stored, set()).update(draft.memory_ids)
                continue
            sources = [by_id[i] for i in draft.memory_ids]
            kept.append(
                _Fact(
                    draft,
                    vector,
                    self._when(draft.date, sources),
                    max(m.occurred_at for m in sources),
                )
            )
        return kept, repeats

    def _stored_copy(self, text: str, vector: np.ndarray) -> int | None:
        """A stored fact that says the same, by its words or its meaning."""
        same = self.store.find_by_hash(fact_hash(text))
        if same is not None:
            return same
        hits = self.store.vector_search(vector, NEIGHBOURS)
        found = self.store.get_many([i for i, _ in hits])
        for memory_id, similarity in hits:
            memory = found.get(memory_id)
            close = similarity >= self.settings.duplicate_similarity
            if memory is not None and memory.kind == "fact" and close:
                return memory_id
        return None

    @staticmethod
    def _when(fact_date: str, sources: Sequence[Memory]) -> float:
        """When it happened: its date when it has a whole one, else when its first source did
        (and at that time of day when its date is that day)."""
        first = min(m.occurred_at for m in sources)
        day = parse_date(fact_date)
        if day is None:
            return first
        if datetime.fromtimestamp(first).date() == day:
            return first
        return datetime.combine(day, time(12)).timestamp()  # noon, local: the day, not an hour

    def _write(
        self,
        episode: Sequence[Memory],
        kept: list[_Fact],
        repeats: dict[int, set[int]],
        updates: list[tuple[int, int]],
        now: float,
        within: Sequence[tuple[int, int]] = (),
    ) -> list[int]:
        """One transaction: the facts, their links, the updates (of stored facts, and
        `within` the episode, by place in `kept`) and the episode's mark. Returns the written
        facts' ids, in the order of `kept`."""
        stored: list[int] = []
        with self.store.transaction():
            for fact in kept:
                importance = (fact.draft.importance - 1) / 4.0
                fact_id = self.store.add(
                    NewMemory(
                        kind="fact",
                        source=episode[0].source,
                        occurred_at=fact.occurred_at,
                        ingested_at=now,
                        content_hash=fact_hash(fact.draft.text),
                        text=fact.draft.text,
                        importance=importance,
                        strength=initial_strength(importance, self.settings.base_strength_days),
                    ),
                    fact.vector,
                )
                for position, source in enumerate(fact.draft.memory_ids):
                    self.store.link(fact_id, source, "derived_from", position)
                stored.append(fact_id)
            for fact_id, sources in repeats.items():
                if self.store.get(fact_id) is None:
                    continue  # forgotten since it was found
                had = [
                    link.to_id
                    for link in self.store.links_from(fact_id)
                    if link.relation == "derived_from"
                ]
                for source in sorted(sources - set(had)):
                    self.store.link(fact_id, source, "derived_from", len(had))
                    had.append(source)
            for index, older in updates:
                if self.store.get(older) is not None:  # not forgotten meanwhile
                    self.store.link(stored[index], older, "supersedes")
            for index, earlier in within:
                self.store.link(stored[index], stored[earlier], "supersedes")
            self.store.mark([m.id for m in episode], FACT_MARK)
        return stored


def forgotten_with(store: MemoryStore, doomed: Iterable[int]) -> list[int]:
    """The facts that go when these memories are forgotten: those derived from them alone,
    and those that hold a word of theirs no other source of the fact holds (it would keep
    the forgotten words). Any other fact only loses its links to them."""
    gone = set(doomed)
    facts: dict[int, None] = {}
    for memory_id in gone:
        for link in store.links_to(memory_id):
            if link.relation == "derived_from":
                facts[link.from_id] = None
    found = store.get_many([i for i in facts if i not in gone])
    going = []
    for fact in found.values():
        if fact.kind != "fact":
            continue
        sources = [
            link.to_id for link in store.links_from(fact.id) if link.relation == "derived_from"
        ]
        texts = store.get_many(sources)
        kept = set().union(*(words(texts[i].text) for i in sources if i in texts and i not in gone))
        lost = set().union(*(words(texts[i].text) for i in sources if i in texts and i in gone))
        if not kept or (words(fact.text) & lost) - kept:
            going.append(fact.id)
    return going
