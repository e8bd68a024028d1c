"""An episode: memories of one source close in time, read together for facts and summed up
together when they fade."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from agent.settings import Settings
from storage import Memory


def episodes_of(memories: Sequence[Memory], settings: Settings) -> Iterator[list[Memory]]:
    """Runs of memories from one source with no gap longer than episode_gap_minutes, each
    at most episode_max_memories long."""
    gap = settings.episode_gap_minutes * 60.0
    by_source: dict[str, list[Memory]] = {}
    for memory in memories:
        by_source.setdefault(memory.source, []).append(memory)
    for source in sorted(by_source):
        run: list[Memory] = []
        for memory in sorted(by_source[source], key=lambda m: (m.occurred_at, m.id)):
            too_far = run and memory.occurred_at - run[-1].occurred_at > gap
            if run and (too_far or len(run) >= settings.episode_max_memories):
                yield run
                run = []
            run.append(memory)
        if run:
            yield run
