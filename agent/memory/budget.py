"""The byte budget: when the store holds more than it may, what is cheapest to lose goes first,
from the least valuable memories: their vectors (archived, cut to sign bits), then their
words where a fact keeps what they said (cut to a gist), then the memories themselves
(forgotten). Pinned memories never move."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from functools import partial
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

        def least_valuable_first(tiers: Sequence[str]) -> list[Memory]:
            found = (m for tier in tiers for m in self._movable(tier))
            return sorted(found, key=lambda m: (value(m, now), m.occurred_at, m.id))

        def freed(memory: Memory, change: Callable[[], None]) -> int:
            before = self.store.memory_bytes(memory)
            change()
            after = self.store.get(memory.id)
            assert after is not None
            return before - self.store.memory_bytes(after)

        for memory in least_valuable_first(("sharp", "hazy")):  # their vectors
            if total <= budget:
                return
            total -= freed(memory, partial(self._archive, memory, now, "budget", report))
        for memory in least_valuable_first(("archive",)):  # their words, where facts keep them
            if total <= budget:
                return
            short = self._shorter_gist(memory)
            if short is not None:
                cut = partial(self.store.move_to_tier, memory.id, "archive", text=short)
                total -= freed(memory, cut)
                report.words_cut.append(memory.id)
        doomed = []
        for memory in least_valuable_first(("archive",)):  # the memories themselves
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
