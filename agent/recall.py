"""Recall: fuse vector similarity, BM25 keywords and retention into one ranking.

Fusion is weighted reciprocal rank fusion (Cormack et al., 2009). Each search ranks its own
candidates (rank 1 = best); a memory scores

    score = wv / (K + rank_vector) + wk / (K + rank_keyword) + wr * R / (K + 1)

where a search that did not return the memory adds nothing, K = rrf_k (60), and R is the
memory's retention exp(-t / S) in [0, 1]. Ranks rather than raw scores are fused because cosine
similarity and BM25 live on unrelated scales. The retention term is worth at most wr (0.25) of a
first place, enough to order near-ties by how alive a memory is, not enough to bury a clear
match. Recall then strengthens what it returns (see agent/retention.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from agent.retention import retention, strengthened
from agent.settings import Settings
from models import Embedder
from models.embedder import embed_one
from storage import Memory, MemoryStore

Mode = Literal["fused", "vector", "keyword"]
MODES: tuple[Mode, ...] = ("fused", "vector", "keyword")

_WORD = re.compile(r"\w+", re.UNICODE)
# Question words and glue that match almost every memory and only add noise to BM25.
STOPWORDS = frozenset(
    """a an and are as at be been but by can could did do does for from had has have he her
    him his how i if in into is it its me my of on or our she so that the their them then there
    these they this to was we were what when where which who whom why will with would you your
    about after before did does doing any some""".split()
)


@dataclass(frozen=True)
class RecallHit:
    memory: Memory
    score: float
    similarity: float | None  # cosine similarity, when vector search found it
    vector_rank: int | None
    keyword_rank: int | None
    retention: float


def query_terms(query: str) -> list[str]:
    words = [w for w in _WORD.findall(query.lower()) if w not in STOPWORDS]
    return list(dict.fromkeys(words))  # unique, in order


def recall(
    store: MemoryStore,
    embedder: Embedder,
    query: str,
    *,
    settings: Settings,
    now: float,
    k: int | None = None,
    mode: Mode = "fused",
    strengthen: bool = True,
) -> list[RecallHit]:
    """The k memories that best answer `query`, best first."""
    limit = k or settings.recall_k
    pool = max(settings.recall_candidates, limit)
    vector_hits = store.vector_search(embed_one(embedder, query), pool) if mode != "keyword" else []
    keyword_hits = store.keyword_search(query_terms(query), pool) if mode != "vector" else []
    vector_rank = {mid: rank for rank, (mid, _) in enumerate(vector_hits, start=1)}
    similarity = dict(vector_hits)
    keyword_rank: dict[int, int] = {}
    for mid, _ in keyword_hits:
        keyword_rank.setdefault(mid, len(keyword_rank) + 1)
    memories = store.get_many(list(dict.fromkeys([*vector_rank, *keyword_rank])))

    k_rrf = settings.rrf_k
    hits = []
    for mid, memory in memories.items():
        if memory.kind == "document":
            continue  # a document's title row; its passages carry the text
        r = retention(memory, now)
        score = 0.0
        if mid in vector_rank:
            score += settings.vector_weight / (k_rrf + vector_rank[mid])
        if mid in keyword_rank:
            score += settings.keyword_weight / (k_rrf + keyword_rank[mid])
        if mode == "fused":
            score += settings.retention_weight * r / (k_rrf + 1)
        hits.append(
            RecallHit(
                memory, score, similarity.get(mid), vector_rank.get(mid), keyword_rank.get(mid), r
            )
        )
    hits.sort(key=lambda h: (-h.score, -h.memory.occurred_at, h.memory.id))
    top = hits[:limit]
    if strengthen and top:
        store.record_recalls(
            (h.memory.id, strengthened(h.memory, now, settings.recall_growth), now) for h in top
        )
    return top
