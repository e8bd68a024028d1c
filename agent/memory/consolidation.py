"""Consolidation: the forgetting curve applied to the whole store, in one run.

Each run, with an explicit clock:
1. new memories since the last run are compared with their nearest sharp neighbours: a near
   duplicate (cosine >= duplicate_similarity, same kind, the same numbers and names:
   agent/memory/duplicates.py) is merged into the older memory, strengths added. What updates what
   (a moved appointment) is decided between facts, by the model (agent/memory/updates.py);
   then, when it has a language model that can be held to a schema, each sharp memory not
   yet read for time words is read (agent/memory/times.py: "last week" and the period it
   names, kept beside the text for prompts to show), and each episode of sharp
   memories not yet read for facts is read (agent/memory/facts.py): its facts stored, linked to
   their sources and to the stored facts they update, and the episode marked read;
2. importance of sharp memories is refreshed from its signals (agent/memory/importance.py) and,
   when a model is loaded, its rating; strength follows importance;
3. decay: by retention R = exp(-t / (S * pace)), the pace set by kind (agent/memory/retention.py),
   a sharp memory below hazy_below goes hazy, a hazy one below archive_below goes to the
   archive. Pinned memories never move. Hazy memories are written an episode at a time:
   one summary memory for the episode (linked to each member), also rendered into a page
   (agent/memory/pages.py); every member's vector is cut to int8, its images downscaled and
   its audio re-encoded as Opus. The summary's strength is the sum of its members', so it
   fades far slower. Archived memories keep the sign bits of their vector; an archived
   summary's page goes unless archive_page says keep. Time alone moves vectors down, not
   words: a memory keeps its text whole in every tier (with words_leave = "fade", words
   that may leave give way to a gist as soon as the memory goes hazy).
   Time alone forgets only small talk: a memory read for facts that no fact rests on (the
   model found nothing in it worth keeping) and of little importance is forgotten when it
   would go to the archive; its episode's summary stays, unless the episode held nothing
   else. Anything else is forgotten by time only when the person has set retention_days;
4. byte budget: while the store is over byte_budget_mb, the cheapest thing to lose goes
   first, the memory of least value (value = R * (1 + importance)) first at each step: its
   vector (archived, cut to sign bits); then its words, replaced by a one-line gist, where
   they may leave (its episode was read for facts and a fact rests on it, or it is
   papertape's own: a chat turn, a summary; a fact or a one-sentence note keeps its words);
   and last the archived memory itself, forgotten.
Every step writes in its own transaction, so a run killed at any moment leaves each memory
either as it was or fully moved. Forgetting deletes for good and checkpoints the WAL.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence

from agent.memory.budget import ByteBudget
from agent.memory.duplicates import same_values
from agent.memory.episodes import episodes_of
from agent.memory.facts import FACT_MARK, SOURCE_KINDS, FactMaker, unread
from agent.memory.importance import blended, memory_importance, rate_with_model
from agent.memory.media import shrink_media
from agent.memory.pages import render_page
from agent.memory.report import ConsolidationReport, Move, Progress, move_label
from agent.memory.retention import CONTAINER_KINDS, DAY, retention
from agent.memory.summaries import Summarizer, gist, summary_hash
from agent.memory.times import TimeReader
from agent.settings import Settings
from models import Embedder
from models.embedder import embed_one
from models.generator import Generator
from storage import TIERS, Memory, MemoryStore, NewMemory

log = logging.getLogger(__name__)

LAST_RUN_KEY = "consolidated_at"
NEIGHBOURS = 8
# Below this importance, a memory read for facts that none rests on is small talk.
SMALL_TALK_BELOW = 0.5


class Consolidator(ByteBudget):
    def __init__(
        self,
        store: MemoryStore,
        embedder: Embedder,
        settings: Settings,
        summarizer: Summarizer,
        rater: Generator | None = None,
        facts: Generator | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self.summarizer = summarizer
        self.rater = rater if settings.rate_importance else None
        # Facts and time words only from a model held to their schemas, and only when the
        # person wants them.
        held = facts if facts is not None and facts.constrains_output else None
        self.fact_maker = (
            FactMaker(store, embedder, held, settings)
            if held is not None and settings.facts != "off"
            else None
        )
        self.time_reader = (
            TimeReader(store, held) if held is not None and settings.time_words != "off" else None
        )

    def run(
        self, now: float, progress: Progress | None = None, *, new_only: bool = False
    ) -> ConsolidationReport:
        """`new_only`: read what came in since for time words and facts (and the updates
        they make), and move nothing: what the daemon does between nights. Its report
        leaves bytes at 0: it counts them nowhere, and the count reads every row."""
        report = ConsolidationReport(now=now, summarizer=self.summarizer.name)
        if new_only:
            self._read_times(report, progress)
            self._make_facts(now, report, progress)
            return report
        report.bytes_before = self.store.stats().bytes
        self._merge_duplicates(now, report)
        self._read_times(report, progress)
        self._make_facts(now, report, progress)
        self._refresh_importance()
        self._decay(now, report, progress)
        self._enforce_budget(now, report)
        self._drop_empty_documents(report, now)
        if any(move.after == "forgotten" for move in report.moves) or report.merged:
            self.store.checkpoint()
        with self.store.transaction():
            self.store.set_meta(LAST_RUN_KEY, repr(now))
        report.bytes_after = self.store.stats().bytes
        return report

    # -- 1. duplicates -----------------------------------------------------------------------

    def _merge_duplicates(self, now: float, report: ConsolidationReport) -> None:
        last = self.store.meta(LAST_RUN_KEY)
        since = float(last) if last is not None else float("-inf")
        gone: set[int] = set()
        fresh = [
            m
            for m in self.store.iter_memories("sharp")
            if m.ingested_at > since
            and m.kind not in CONTAINER_KINDS
            and m.kind not in ("summary", "fact")
        ]
        for memory in fresh:
            if memory.id in gone or self._is_passage(memory.id):
                continue
            vector = self.store.vector(memory.id)
            if vector is None:
                continue
            hits = self.store.vector_search(vector, NEIGHBOURS + 1, tiers=("sharp",))
            others = self.store.get_many([mid for mid, _ in hits if mid != memory.id])
            for other_id, similarity in hits:
                other = others.get(other_id)
                if other is None or other_id in gone or other.kind != memory.kind:
                    continue
                if self._is_passage(other_id):
                    continue
                if similarity < self.settings.duplicate_similarity or not same_values(
                    memory.text, other.text
                ):
                    continue
                kept, merged = self._merge(memory, other)
                gone.add(merged.id)
                report.merged.append((kept.id, merged.id))
                report.moves.append(
                    Move(
                        merged.id,
                        merged.tier,
                        "forgotten",
                        "duplicate",
                        retention(merged, now),
                        move_label(merged.text),
                    )
                )
                if merged.id == memory.id:
                    break

    def _is_passage(self, memory_id: int) -> bool:
        return any(link.relation == "part_of" for link in self.store.links_from(memory_id))

    def _merge(self, a: Memory, b: Memory) -> tuple[Memory, Memory]:
        """Keep the pinned, else the older, memory; it takes the other's strength and
        recalls, and the other is deleted with its links moved over."""
        kept, merged = sorted((a, b), key=lambda m: (not m.pinned, m.occurred_at, m.id))
        with self.store.transaction():
            self.store.update_memory(
                kept.id,
                importance=max(kept.importance, merged.importance),
                strength=kept.strength + merged.strength,
                recall_count=kept.recall_count + merged.recall_count,
            )
            for link in self.store.links_to(merged.id):
                if link.from_id != kept.id:
                    self.store.link(link.from_id, kept.id, link.relation, link.position)
            for link in self.store.links_from(merged.id):
                if link.to_id != kept.id:
                    self.store.link(kept.id, link.to_id, link.relation, link.position)
            if merged.pinned:
                self.store.set_pinned(kept.id, True)
            self.store.delete([merged.id])
        return kept, merged

    def _read_times(self, report: ConsolidationReport, progress: Progress | None) -> None:
        """Before the facts (their prompt shows the periods) and before decay cuts text."""
        if self.time_reader is not None:
            read, found = self.time_reader.read_new(progress)
            report.times_read += read
            report.times_found += found

    def _make_facts(
        self, now: float, report: ConsolidationReport, progress: Progress | None
    ) -> None:
        """Read each episode of sharp memories not yet read for facts (before decay cuts
        their text to a gist). Each episode commits on its own, so a stopped run resumes."""
        if self.fact_maker is None:
            return
        episodes = list(episodes_of(unread(self.store, FACT_MARK), self.settings))
        if progress and episodes:  # up before the first call, which may load the model
            progress(0, len(episodes), f"facts: {len(episodes)} episodes to read")
        for done, episode in enumerate(episodes, start=1):
            made = self.fact_maker.read(episode, now)
            report.facts += made.stored
            report.facts_unsupported += made.unsupported
            report.facts_misattributed += made.misattributed
            report.facts_duplicates += made.duplicates
            report.fact_updates += made.updates
            report.fact_episodes += 1
            if progress:
                label = f"facts: episode of {len(episode)} from {episode[0].source}"
                progress(done, len(episodes), label)

    # -- 2. importance -----------------------------------------------------------------------

    def _refresh_importance(self) -> None:
        changes = []
        for memory in self.store.iter_memories("sharp"):
            if memory.kind in CONTAINER_KINDS or memory.kind == "fact":
                continue  # a fact's importance is the model's rating of it
            importance = max(memory.importance, memory_importance(memory))
            if abs(importance - memory.importance) > 1e-4:
                changes.append((memory, importance))
        with self.store.transaction():
            for memory, importance in changes:
                self._set_importance(memory, importance)

    def _set_importance(self, memory: Memory, importance: float) -> Memory:
        # S is proportional to (1 + 2 * importance); recalls have multiplied it since.
        strength = memory.strength * (1 + 2 * importance) / (1 + 2 * memory.importance)
        self.store.update_memory(memory.id, importance=importance, strength=strength)
        updated = self.store.get(memory.id)
        assert updated is not None
        return updated

    # -- 3. decay ----------------------------------------------------------------------------

    def _movable(self, tier: str) -> Iterator[Memory]:
        for memory in self.store.iter_memories(tier):
            if not memory.pinned and memory.kind not in CONTAINER_KINDS:
                yield memory

    def _decay(self, now: float, report: ConsolidationReport, progress: Progress | None) -> None:
        fading = [m for m in self._movable("sharp") if retention(m, now) < self.settings.hazy_below]
        for fact in [m for m in fading if m.kind == "fact"]:
            # Rated by the model that wrote it; a sentence already: no summary, page or gist.
            self.store.move_to_tier(fact.id, "hazy")
            report.moves.append(
                Move(fact.id, "sharp", "hazy", "decay", retention(fact, now), move_label(fact.text))
            )
        fading = [m for m in fading if m.kind != "fact"]
        if self.rater is not None:
            fading = self._rate(fading, now, report)
        episodes = list(episodes_of(fading, self.settings))
        for done, episode in enumerate(episodes, start=1):
            self._make_hazy(episode, now, report)
            if progress:
                progress(done, len(episodes), f"episode of {len(episode)} from {episode[0].source}")
        small_talk = []
        for memory in list(self._movable("hazy")):
            if retention(memory, now) < self.settings.archive_below:
                if self._is_small_talk(memory):
                    small_talk.append(memory)
                else:
                    self._archive(memory, now, "decay", report)
        self._forget_small_talk(small_talk, now, report)
        if self.settings.retention_days > 0:
            cutoff = now - self.settings.retention_days * DAY
            aged = [
                m
                for tier in TIERS
                for m in self.store.iter_memories(tier)
                if not m.pinned and m.occurred_at < cutoff
            ]
            self._forget(aged, now, "retention", report)

    def _forget_small_talk(
        self, small_talk: Sequence[Memory], now: float, report: ConsolidationReport
    ) -> None:
        """Small talk goes, and with it a summary of an episode that held nothing else."""
        covering = {
            link.from_id
            for memory in small_talk
            for link in self.store.links_to(memory.id)
            if link.relation == "summarizes"
        }
        self._forget(small_talk, now, "small talk", report)
        emptied = [
            summary
            for summary in self.store.get_many(sorted(covering)).values()
            if not any(link.relation == "summarizes" for link in self.store.links_from(summary.id))
        ]
        self._forget(emptied, now, "small talk", report)

    def _read_for_facts(self, memory: Memory) -> bool:
        return FACT_MARK in self.store.marks_of(memory.id)

    def _has_facts(self, memory: Memory) -> bool:
        """Whether a fact rests on the memory. An exchange with papertape that cited it is
        linked the same way, but it is not knowledge drawn from it."""
        derived = [
            link.from_id
            for link in self.store.links_to(memory.id)
            if link.relation == "derived_from"
        ]
        return any(m.kind == "fact" for m in self.store.get_many(derived).values())

    def _words_may_leave(self, memory: Memory) -> bool:
        """Whether a memory's own words may give way to a gist: it is not something the
        person stored (a chat turn, a summary), or it was read for facts and a fact rests on
        it, so what it said is kept there."""
        if memory.kind not in SOURCE_KINDS:
            return True
        return self._read_for_facts(memory) and self._has_facts(memory)

    def _shorter_gist(self, memory: Memory) -> str | None:
        """The gist that takes the place of the memory's words, when they may leave and it
        is shorter than them; None keeps them (a one-sentence note is its own gist). A fact
        is already short: it keeps its words in every tier."""
        if memory.kind == "fact" or not self._words_may_leave(memory):
            return None
        short = gist(memory.text, self.settings.gist_chars)
        return short if short != " ".join(memory.text.split()) else None

    def _is_small_talk(self, memory: Memory) -> bool:
        """Read for facts, none found in it, and of little importance by its signals (and the
        model's rating, when one was asked)."""
        if memory.kind not in SOURCE_KINDS or not self._read_for_facts(memory):
            return False
        return memory.importance < SMALL_TALK_BELOW and not self._has_facts(memory)

    def _rate(self, fading: list[Memory], now: float, report: ConsolidationReport) -> list[Memory]:
        """Ask the model how much each fading memory matters; those it rates up may stay."""
        assert self.rater is not None
        kept = []
        for memory in fading:
            rating = rate_with_model(self.rater, memory.text)
            report.rated += 1
            importance = blended(memory_importance(memory), rating)
            with self.store.transaction():
                memory = self._set_importance(memory, importance)
            if retention(memory, now) < self.settings.hazy_below:
                kept.append(memory)
        return kept

    def _make_hazy(self, episode: list[Memory], now: float, report: ConsolidationReport) -> None:
        # Exchanges with papertape are history, not evidence: a summary of them would be
        # recalled as if the person had stored it, so they fade one by one.
        exchanges = all(m.kind == "chat" for m in episode)
        summary_text = "" if exchanges else self.summarizer.summarize([m.text for m in episode])
        summarised = bool(summary_text) and len(episode) > 1
        summary_vector = embed_one(self.embedder, summary_text) if summarised else None
        fading_words = self.settings.words_leave == "fade"
        gists = [self._shorter_gist(m) if fading_words else None for m in episode]
        # The episode's optical copy is its summary's page: one image an episode, kept while
        # the episode is hazy (the archive drops it unless archive_page = "keep").
        page = (
            render_page(
                summary_text, font_px=self.settings.page_font_px, fmt=self.settings.page_format
            )
            if summarised
            else None
        )
        with self.store.transaction():
            if summarised:
                summary_id = self.store.add(
                    NewMemory(
                        kind="summary",
                        source=episode[0].source,
                        occurred_at=episode[0].occurred_at,
                        ingested_at=now,
                        content_hash=summary_hash([m.id for m in episode], summary_text),
                        text=summary_text,
                        tier="hazy",
                        importance=max(m.importance for m in episode),
                        # It stands for the whole episode, so it holds their strength together,
                        # as merged duplicates do: the gist of an episode outlives its details.
                        strength=sum(m.strength for m in episode),
                    ),
                    summary_vector,
                )
                for position, memory in enumerate(episode):
                    self.store.link(summary_id, memory.id, "summarizes", position)
                if page is not None:
                    self.store.put_blob(page.blob(summary_id))
                report.summaries.append(summary_id)
            for memory, short in zip(episode, gists, strict=True):
                shrink_media(self.store, memory.id, self.settings.hazy_audio)
                self.store.move_to_tier(memory.id, "hazy", text=short)
                report.moves.append(
                    Move(
                        memory.id,
                        "sharp",
                        "hazy",
                        "decay",
                        retention(memory, now),
                        move_label(memory.text),
                    )
                )

    def _archive(
        self, memory: Memory, now: float, reason: str, report: ConsolidationReport
    ) -> None:
        with self.store.transaction():
            for blob in self.store.blobs_of(memory.id):
                if blob.role != "page" or self.settings.archive_page == "drop":
                    self.store.drop_blob(memory.id, blob.role)
            kept = self._shorter_gist(memory) if self.settings.words_leave == "fade" else None
            self.store.move_to_tier(memory.id, "archive", text=kept)
        report.moves.append(
            Move(
                memory.id,
                memory.tier,
                "archive",
                reason,
                retention(memory, now),
                move_label(memory.text),
            )
        )

    def _forget(
        self, doomed: Sequence[Memory], now: float, reason: str, report: ConsolidationReport
    ) -> None:
        if not doomed:
            return
        self.store.delete([m.id for m in doomed])
        report.moves += [
            Move(m.id, m.tier, "forgotten", reason, retention(m, now), move_label(m.text))
            for m in doomed
        ]

    # -- 4. the byte budget ------------------------------------------------------------------
