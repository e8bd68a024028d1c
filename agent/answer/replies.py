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
from storage import MemoryStore
from storage.vectors import decode, encoding_of, unit_cosine

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
    hits = [memory_id for memory_id, memory in found.items() if memory.kind in LINE_KINDS]
    near = store.adjacent(hits, LINE_KINDS, within_s)
    # The line right after a hit joins the candidates, read with the hit as what it answers.
    answered: dict[int, int | None] = {}
    for hit in hits:
        after = near.get(hit, (None, None))[1]
        if after is not None and after not in found and after not in answered:
            answered[after] = hit
    said = store.speakers_of([*found, *answered])
    lines = [i for i in [*hits, *answered] if i in said]
    for line in lines:
        if line not in answered:  # a hit: read with the line before it
            answered[line] = near.get(line, (None, None))[0]
    stored = store.encoded_vectors([*lines, *(a for a in answered.values() if a is not None)])
    dim = store.vector_dim
    unit = {memory_id: decode(blob, dim) for memory_id, blob in stored.items()}
    signs = {memory_id for memory_id, blob in stored.items() if encoding_of(blob, dim) == "bit"}
    asked = np.ascontiguousarray(query, dtype=np.float32).reshape(-1)
    result = dict(similarity)
    for line in lines:
        if line not in unit:
            continue
        alone = similarity.get(line)
        if alone is None:
            alone = unit_cosine(asked, unit[line], signs_only=line in signs)
        before = answered[line]
        if before is None or before not in unit:
            result[line] = alone
            continue
        # The cosine to the two unit vectors' mean direction, from the three pairwise ones,
        # each estimated as search estimates it in the tiers' encodings (bits by angle).
        between = unit_cosine(unit[line], unit[before], signs_only=bool({line, before} & signs))
        to_before = unit_cosine(asked, unit[before], signs_only=before in signs)
        together = (alone + to_before) / math.sqrt(max(2 + 2 * between, 1e-12))
        result[line] = max(together, alone)
    best = sorted(result, key=lambda memory_id: -result[memory_id])[:limit]
    return {memory_id: result[memory_id] for memory_id in best}
