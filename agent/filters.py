"""Recall's filters, as the terminal UI and MCP's recall apply them to a ranked pool: a kind,
a tier and a span of time. Recall never ranks a document's own row (its title: the passages
hold its text), so the kind "document" keeps the passages of documents."""

from __future__ import annotations

from dataclasses import dataclass

from agent.api import MemoryService
from storage import Memory


@dataclass(frozen=True)
class Filters:
    kind: str | None = None
    tier: str | None = None
    low: float | None = None  # happened at or after
    high: float | None = None  # and before

    @property
    def given(self) -> bool:
        return any(value is not None for value in (self.kind, self.tier, self.low, self.high))

    def passes(self, service: MemoryService, memory: Memory) -> bool:
        if self.kind == "document":
            if not is_passage(service, memory):
                return False
        elif self.kind is not None and memory.kind != self.kind:
            return False
        return (
            (self.tier is None or memory.tier == self.tier)
            and (self.low is None or memory.occurred_at >= self.low)
            and (self.high is None or memory.occurred_at < self.high)
        )


def is_passage(service: MemoryService, memory: Memory) -> bool:
    """Whether the memory is a passage of a document (linked part_of it)."""
    return any(
        link.relation == "part_of" and link.from_id == memory.id
        for link in service.links(memory.id)
    )
