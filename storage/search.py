"""Candidate search over one store: nearest vectors (sqlite-vec) and BM25 keywords (FTS5)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

import apsw
import numpy as np

from storage import cold, vectors

# sqlite-vec answers at most this many neighbours in one KNN query.
MAX_KNN = 4096
# Faded candidates read per wanted hit: sign bits rank roughly, the int8 in the row decides.
# Chosen on synthetic lifelogs (scripts/bench/paging.py), where it keeps recall@10 against
# exact search at 0.99 on 100,000 memories while reading a few hundred rows per query.
OVERSAMPLE = 5
MIN_CANDIDATES = 300


def vector_search(
    conn: apsw.Connection, query: np.ndarray, limit: int, tiers: Sequence[str], dim: int
) -> list[tuple[int, float]]:
    """Ids of the `limit` nearest vectors over `tiers` with their cosine similarity, best
    first. The sharp tier is searched exactly; the faded tiers by their sign bits in the cold
    file, and those candidates re-ranked by the int8 vector in their rows."""
    if limit <= 0:
        return []
    found: list[tuple[int, float]] = []
    if "sharp" in tiers:
        rows = conn.execute(
            f"SELECT rowid, distance FROM {vectors.SHARP_TABLE} "
            "WHERE embedding MATCH ? AND k = ? ORDER BY distance",
            (vectors.encode(query, "sharp", dim), min(limit, MAX_KNN)),
        )
        found += [(int(rowid), 1.0 - float(distance)) for rowid, distance in rows]
    faded = [tier for tier in tiers if tier in vectors.COLD_TIERS]
    if faded:
        found += _faded_search(conn, query, limit, faded, dim)
    found.sort(key=lambda hit: -hit[1])
    return found[:limit]


def _faded_search(
    conn: apsw.Connection, query: np.ndarray, limit: int, tiers: Sequence[str], dim: int
) -> list[tuple[int, float]]:
    wanted = min(max(limit * OVERSAMPLE, MIN_CANDIDATES), MAX_KNN)
    candidates = [mid for mid, _ in cold.search(conn, vectors.query_bits(query, dim), wanted)]
    if not candidates:
        return []
    marks = ",".join("?" * len(candidates))
    rows = conn.execute(
        f"SELECT id, tier, cold_vector FROM {cold.SCHEMA}.memories WHERE id IN ({marks}) "
        "AND cold_vector IS NOT NULL",
        candidates,
    )
    return vectors.cosines(
        query, [(int(mid), bytes(blob)) for mid, tier, blob in rows if tier in tiers], dim
    )


# Unicode scripts written without spaces between words. FTS5's unicode61 tokenizer would read
# a whole sentence of them as one token, found only by the same sentence: the index reads each
# of their characters as a word instead, as agent/words.py does.
UNSPACED_SCRIPTS = ("CJK", "HIRAGANA", "KATAKANA", "HANGUL", "THAI", "LAO", "KHMER", "MYANMAR")


def unspaced(char: str) -> bool:
    """Whether the character is of a script written without spaces between words."""
    return char > "\x7f" and unicodedata.name(char, "").startswith(UNSPACED_SCRIPTS)


def indexed_text(text: str) -> str:
    """The text as the keyword index reads it: each character of an unspaced script set
    apart by spaces. Other text is unchanged, so its entries are what they always were."""
    if text.isascii():
        return text
    return "".join(f" {c} " if unspaced(c) else c for c in text)


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
