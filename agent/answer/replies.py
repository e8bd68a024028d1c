"""A said line is found through the line it answers.

A reply often holds the answer without the words of what it answers ("Yes, last weekend, up
at the lake!" after "Did you two go camping?"). Where the store knows who said its lines,
recall reads each said line's vector together with that of the line before it in its
episode (the same source, within the episode gap): the query's cosine to the mean direction
of the two unit vectors, or to the line alone where that is closer (a line that says it all
itself is not held back by what it answers). The lines the vector search found also bring
in the line right after each of them, so a reply can be found through what it answers.

Nothing is stored: each line keeps its own vector, and the two are combined only when a
query is asked, so a forgotten line leaves no trace in its neighbour's vector and a store
written before this reads the same way. Vectors are compared as numbers, so this knows no
language. Measured in docs/BENCHMARKS.md ("Evidence recall").
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from agent.memory.facts import SOURCE_KINDS
from storage import Memory, MemoryStore
from storage.vectors import cosine, decode, encoding_of

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
    stored = store.encoded_vectors(
        [m.id for m in lines] + [a.id for a in answered.values() if a is not None]
    )
    dim = store.vector_dim
    result = dict(similarity)
    for line in lines:
        own = stored.get(line.id)
        if own is None:
            continue
        alone = similarity[line.id] if line.id in similarity else cosine(query, own, dim)
        before = answered[line.id]
        if before is None or before.id not in stored:
            result[line.id] = alone
            continue
        other = stored[before.id]
        # The cosine to the two unit vectors' mean direction, from the three pairwise ones,
        # each estimated as search estimates it in the tiers' encodings (bits by angle).
        between = _between(own, other, dim)
        together = (alone + cosine(query, other, dim)) / math.sqrt(max(2 + 2 * between, 1e-12))
        result[line.id] = max(together, alone)
    best = sorted(result, key=lambda memory_id: -result[memory_id])[:limit]
    return {memory_id: result[memory_id] for memory_id in best}


def _between(first: bytes, second: bytes, dim: int) -> float:
    """The cosine of two stored vectors; a sign vector is scored by its angle estimate."""
    if encoding_of(first, dim) == "bit":
        first, second = second, first
    return cosine(decode(first, dim), second, dim)
