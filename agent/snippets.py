"""A long text shown on one line at the part a query matched: a passage of a document is
read from its first words otherwise, and the sentence the search found may be far in."""

from __future__ import annotations

from agent.words import word_spans, words


def around(text: str, query: str, width: int) -> str:
    """`text` on one line, cut to `width` characters around where most of the query's words
    fall; from its start when it fits, or when no query word is in it."""
    flat = " ".join(text.split())
    if len(flat) <= width:
        return flat
    wanted = words(query)
    hits = [(at, word) for at, word in sorted(word_spans(flat)) if word in wanted]
    start = 0
    if hits:
        lead = width // 4  # some words before the first match, for its context
        best = max(
            hits,
            key=lambda hit: (
                len({w for at, w in hits if hit[0] - lead <= at < hit[0] - lead + width}),
                -hit[0],
            ),
        )
        start = min(max(0, best[0] - lead), len(flat) - width + 1)
    if start <= 1:
        return flat[: width - 1] + "…"
    return "…" + flat[start : start + width - 2] + "…"
