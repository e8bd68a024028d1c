"""Candidate search over one store: nearest vectors (sqlite-vec) and BM25 keywords (FTS5)."""

from __future__ import annotations

from collections.abc import Sequence

import apsw
import numpy as np

from storage import vectors

# sqlite-vec answers at most this many neighbours in one KNN query.
MAX_KNN = 4096


def vector_search(
    conn: apsw.Connection, query: np.ndarray, limit: int, tiers: Sequence[str], dim: int
) -> list[tuple[int, float]]:
    """Ids of the `limit` nearest vectors over `tiers` with their (estimated) cosine
    similarity, best first. Each tier is searched in its own encoding."""
    if limit <= 0:
        return []
    found: list[tuple[int, float]] = []
    for tier in tiers:
        blob = vectors.encode(query, tier, dim)
        rows = conn.execute(
            f"SELECT rowid, distance FROM {vectors.TABLES[tier]} "
            f"WHERE embedding MATCH {vectors.sql_value(tier)} AND k = ? ORDER BY distance",
            (blob, min(limit, MAX_KNN)),
        )
        found += [(int(rowid), vectors.similarity(float(d), tier, dim)) for rowid, d in rows]
    found.sort(key=lambda hit: -hit[1])
    return found[:limit]


def fts_query(terms: list[str]) -> str:
    """An FTS5 query that matches any of `terms`, each quoted so none is read as syntax."""
    quoted = ['"' + term.replace('"', '""') + '"' for term in terms if term.strip()]
    return " OR ".join(quoted)


def keyword_search(conn: apsw.Connection, terms: list[str], limit: int) -> list[tuple[int, float]]:
    """Ids matching any term with their BM25 score (higher is better), best first."""
    query = fts_query(terms)
    if not query or limit <= 0:
        return []
    rows = conn.execute(
        "SELECT rowid, bm25(memory_fts) FROM memory_fts WHERE memory_fts MATCH ? "
        "ORDER BY bm25(memory_fts) LIMIT ?",
        (query, limit),
    )
    # FTS5's bm25() is negated so that ascending order is best first; flip it back.
    return [(int(rowid), -float(score)) for rowid, score in rows]
