"""A said line is found through the line it answers.

A reply often holds the answer without the words of what it answers ("Yes, last weekend, up
at the lake!" after "Did you two go camping?"). Where the store knows who said its lines,
recall reads each said line's vector together with that of the line before it in its
episode (the same source, within the episode gap): the query's cosine to the mean direction
of the two unit vectors. The lines the vector search found also bring in the line right
after each of them, so a reply can be found through what it answers.

Nothing is stored: each line keeps its own vector, and the two are combined only when a
query is asked, so a forgotten line leaves no trace in its neighbour's vector and a store
written before this reads the same way. Vectors are compared as numbers, so this knows no
language. Measured in docs/BENCHMARKS.md ("Evidence recall").
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from agent.memory.facts import SOURCE_KINDS
from storage import Memory, MemoryStore

LINE_KINDS = tuple(sorted(SOURCE_KINDS))


def with_answered_lines(
    store: MemoryStore,
    query: np.ndarray,
    similarity: Mapping[int, float],
    within_s: float,
    limit: int,
) -> dict[int, float]:
    """The `limit` best of `similarity` (memory id -> cosine to `query`, from the vector
    search), each said line's cosine taken with the line it answers, and the lines that
    answer those found added, best first: as if the search had been over the combined
    vectors."""
    found = store.get_many(list(similarity))
    candidates = dict(found)
    answered: dict[int, Memory | None] = {}
    for memory in found.values():
        if memory.kind in LINE_KINDS:
            # A fact or summary of the episode may sit between two lines in time.
            later = [m for m in store.following(memory, 3, within_s) if m.kind in LINE_KINDS]
            if later and later[0].id not in candidates:
                candidates[later[0].id] = later[0]
                answered[later[0].id] = memory
    said = store.speakers_of(list(candidates))
    lines = [m for i, m in candidates.items() if i in said and m.kind in LINE_KINDS]
    for line in lines:
        if line.id not in answered:
            answered[line.id] = store.preceding(line, LINE_KINDS, within_s)
    vectors = store.vectors(
        [m.id for m in lines] + [a.id for a in answered.values() if a is not None]
    )
    asked = np.asarray(query, dtype=np.float32)
    asked /= max(float(np.linalg.norm(asked)), 1e-12)
    result = dict(similarity)
    for line in lines:
        own = vectors.get(line.id)
        if own is None:
            continue
        before = answered[line.id]
        together = own + vectors[before.id] if before is not None and before.id in vectors else own
        mixed = float(together @ asked) / max(float(np.linalg.norm(together)), 1e-12)
        result[line.id] = max(mixed, float(own @ asked))
    best = sorted(result, key=lambda memory_id: -result[memory_id])[:limit]
    return {memory_id: result[memory_id] for memory_id in best}
