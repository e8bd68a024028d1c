"""The byte budget: when the store holds more than it may, what is cheapest to lose goes first,
from the least valuable memories: their vectors (archived, cut to sign bits), then their
words where a fact keeps what they said (cut to a gist), then the memories themselves
(forgotten). Pinned memories never move."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from agent.memory.report import ConsolidationReport
from agent.memory.retention import CONTAINER_KINDS, value
from agent.memory.summaries import Summarizer
from agent.settings import Settings
from storage import Memory, MemoryStore


class ByteBudget:
    """Part of the Consolidator (agent/memory/consolidation.py), which supplies these."""

    store: MemoryStore
    settings: Settings
    summarizer: Summarizer

    if TYPE_CHECKING:

        def _movable(self, tier: str) -> Iterator[Memory]: ...

        def _archive(
            self, memory: Memory, now: float, reason: str, report: ConsolidationReport
        ) -> None: ...

        def _forget(
            self, doomed: Sequence[Memory], now: float, reason: str, report: ConsolidationReport
        ) -> None: ...

        def _shorter_gist(self, memory: Memory) -> str | None: ...

    def make_room(self, now: float, room: int) -> ConsolidationReport:
        """Only the byte budget: vectors, then words, then memories, from the least valuable
        up, until `room` more bytes fit. The daemon calls it when new memories would go over."""
        report = ConsolidationReport(now=now, summarizer=self.summarizer.name)
        report.bytes_before = self.store.stats().bytes
        self._enforce_budget(now, report, room)
        if any(move.after == "forgotten" for move in report.moves):
            self.store.checkpoint()
        report.bytes_after = self.store.stats().bytes
        return report

    def _enforce_budget(self, now: float, report: ConsolidationReport, room: int = 0) -> None:
        budget = int(self.settings.byte_budget_mb * 1_000_000) - room
        if budget + room <= 0:
            return
        total = self.store.stats().bytes
        if total <= budget:
            return
        candidates = sorted(
            (m for tier in ("sharp", "hazy") for m in self._movable(tier)),
            key=lambda m: (value(m, now), m.occurred_at, m.id),
        )
        for memory in candidates:
            if total <= budget:
                return
            before = self.store.memory_bytes(memory)
            self._archive(memory, now, "budget", report)
            archived = self.store.get(memory.id)
            assert archived is not None
            total -= before - self.store.memory_bytes(archived)
        archived_memories = sorted(
            self._movable("archive"), key=lambda m: (value(m, now), m.occurred_at, m.id)
        )
        for memory in archived_memories:
            if total <= budget:
                return
            short = self._shorter_gist(memory)
            if short is None:
                continue
            before = self.store.memory_bytes(memory)
            with self.store.transaction():
                self.store.move_to_tier(memory.id, "archive", text=short)
            report.words_cut.append(memory.id)
            cut = self.store.get(memory.id)
            assert cut is not None
            total -= before - self.store.memory_bytes(cut)
        archived_memories = sorted(
            self._movable("archive"), key=lambda m: (value(m, now), m.occurred_at, m.id)
        )
        doomed = []
        for memory in archived_memories:
            if total <= budget:
                break
            total -= self.store.memory_bytes(memory)
            doomed.append(memory)
        self._forget(doomed, now, "budget", report)

    def _drop_empty_documents(self, report: ConsolidationReport, now: float) -> None:
        """A document row whose passages have all been forgotten goes with them."""
        empty = [
            m
            for m in self.store.iter_memories()
            if m.kind in CONTAINER_KINDS
            and not any(link.relation == "part_of" for link in self.store.links_to(m.id))
            and not m.pinned
        ]
        self._forget(empty, now, "decay", report)
