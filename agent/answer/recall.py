"""Recall: fuse vector similarity, BM25 keywords and retention into one ranking.

Vector search and FTS5 each return their best candidates (60 by default). Each signal is
rescaled over that candidate pool so that the two can be added:

    cosine' = (cosine - lowest cosine in the pool) / max(highest - lowest, m)   in [0, 1]
    bm25'   = bm25 / highest bm25 in the pool                               in [0, 1]
    gap     = (best bm25 - second best bm25) / best bm25                   in [0, 1]
    score   = wv * cosine' + wk * (1 + c * gap) * bm25' + wr * R

A search that did not return a memory adds 0 for it. The floor m (vector_min_spread, 0.2)
keeps a pool of near-equal cosines, where the vectors cannot tell the candidates apart, from
being stretched to the full 0..1 and outvoting BM25 with noise. R = exp(-t / S) is the
memory's retention (agent/memory/retention.py), so among near-equal matches the one the person met
more recently, or recalled more often, wins. The gap term trusts BM25 more when one memory
matches the query's words far better than any other: a rare name or phrase found once is
strong evidence that the small embedder's cosine, pulled towards whoever the question names,
should not outvote. Defaults wv = wk = 1, wr = 0.25, c = 1 (keyword_confidence).

Why this and not reciprocal rank fusion: on LoCoMo (scripts/bench/recall.py) vectors from a
small embedder are much weaker than BM25, and rank fusion gives a poor vector ranking the same
say as a good keyword ranking. Rescaled scores keep BM25's confidence: one rare word that
matches strongly still counts. The method and its weights were chosen on one conversation
(conv-26) and then measured on the six others; docs/BENCHMARKS.md has both.

Where the store knows who said its lines, a said line's cosine is read together with the
line it answers, and the line after each vector hit joins the pool (agent/answer/replies.py,
`reply_context`): a reply that holds the answer without the question's words ("Yes, rain all
night!") is found through what it answers (held-out LoCoMo fused r@10 0.639 -> 0.680).

A memory whose words were cut to a gist (for room, or when it went hazy under
`words_leave = "fade"`) answers through its episode: the hit lifts the summary that covers it
to at least its own score, and once that summary is in the list, the cut members below it are
left out (the summary stands for them; `recall --deep` reads the episode's page). So a
month-old conversation whose words have gone comes back as its summary, not as ten gists. A
faded memory that still holds its words (time moves only vectors down) stands for itself:
its own words answer better than a summary of the episode, which holds only some of them
(all seven LoCoMo conversations, aged: 0.98 of keep's answer recall against 0.95 when its
summary stood for it; docs/BENCHMARKS.md).

A fact (agent/memory/facts.py) is a sentence the model drew from a few lines. When those
lines matched the query too and still hold their words, the fact answers through them: each
is lifted to at least the fact's score and the fact leaves the list, since the lines hold all
it says and more (the fact's dates and names are in the prompt's reading of the lines as
well). A fact whose lines did not match, or were cut to gists, stands for itself, and so
does one in an update (a moved appointment): it tells which version holds now. For ranking,
a fact is as recent as its freshest source line: its own slow fading keeps it in the store,
it does not make what it tells newer than the lines it was drawn from. Without both, on aged
LoCoMo stores the facts took a third of the top 10 places, above the lines that held the
answers (conv-41: 0.920 of keep's answer recall, 0.959 with them; docs/BENCHMARKS.md).

Past exchanges with papertape (kind `chat`: a question and the model's answer) are not
evidence of anything the person stored, and a wrong answer recalled as a source would teach
the next one. Recall leaves them out unless asked (`include_chat`, or the `chat_as_evidence`
setting), and then ranks every one below what the person stored.

Recall then strengthens what it returns, and the facts drawn from those lines (see
agent/memory/retention.py). `ask` strengthens only what its answer cites.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, replace
from typing import Literal

from agent.answer.replies import with_answered_lines
from agent.ingest.notes import verbatim_hashes
from agent.memory.retention import retention, strengthened
from agent.memory.updates import newest_version
from agent.settings import Settings
from agent.words import word_spans
from models import Embedder
from models.embedder import embed_query
from storage import Memory, MemoryStore
from storage.search import unspaced

Mode = Literal["fused", "vector", "keyword"]
MODES: tuple[Mode, ...] = ("fused", "vector", "keyword")

_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class RecallHit:
    memory: Memory
    score: float
    similarity: float | None  # cosine similarity, when vector search found it
    vector_rank: int | None
    keyword_rank: int | None
    retention: float
    read_back: str | None = None  # a hazy memory's page read back by OCR (recall --deep)
    replaced_by: int | None = None  # a superseded fact: the newest fact that updates it


def query_terms(query: str) -> list[str]:
    """The query's words, unique, in order. No stop list, so that a question in any language
    is searched alike: BM25's inverse document frequency alone weighs the common words down
    (what an English list cost on LoCoMo is in docs/BENCHMARKS.md).

    Words joined by punctuation ("bob's", "e-mail", "wiki.example.com") are also searched as
    one phrase, and a piece of them one letter long only within it: the "s" of "bob's" alone
    would match every other possessive. In a script written without spaces each character
    is a word, as the index reads it (storage/search.py), and each two in a row a phrase,
    so that the store's lines holding the question's words in its order rank first."""
    terms: list[str] = []
    for chunk in query.casefold().split():
        pieces = _WORD.findall(chunk)
        if len(pieces) > 1:
            terms.append(" ".join(pieces))  # quoted by the store: an FTS5 phrase
        for piece in pieces:
            split = [word for _, word in word_spans(piece)]
            if len(split) > 1:  # an unspaced run: its characters, and each pair a phrase
                terms += [f"{a} {b}" for a, b in itertools.pairwise(split)] + split
            elif len(pieces) == 1 or len(piece) > 1 or unspaced(piece):
                terms.append(piece)
    return list(dict.fromkeys(terms))


def holds_its_words(memory: Memory) -> bool:
    """Whether a memory's text is still what was stored: it hashes to its content hash.
    A gist does not. Nor does a passage of a long document, hashed from its document's hash
    and place: faded, it answers through its summary as a gist would."""
    return memory.content_hash in verbatim_hashes(
        memory.text, kind=memory.kind, source=memory.source
    )


def _with_episode_summaries(
    store: MemoryStore, hits: list[RecallHit], now: float
) -> list[RecallHit]:
    cut = [h.memory.id for h in hits if h.memory.tier != "sharp" and not holds_its_words(h.memory)]
    summary_of = store.summaries_of(cut)
    if not summary_of:
        return hits
    by_id = {h.memory.id: h for h in hits}
    lifted: dict[int, float] = {}
    for hit in hits:
        summary = summary_of.get(hit.memory.id)
        if summary is not None:
            lifted[summary] = max(lifted.get(summary, hit.score), hit.score)
    missing = store.get_many([sid for sid in lifted if sid not in by_id])
    for sid, score in lifted.items():
        if sid in by_id:
            if score > by_id[sid].score:
                by_id[sid] = replace(by_id[sid], score=score)
        elif sid in missing:
            memory = missing[sid]
            by_id[sid] = RecallHit(memory, score, None, None, None, retention(memory, now))
    ranked = sorted(by_id.values(), key=lambda h: (-h.score, -h.memory.occurred_at, h.memory.id))
    shown: set[int] = set()
    kept = []
    for hit in ranked:
        summary = summary_of.get(hit.memory.id)
        if summary is not None and summary in shown:
            continue  # its summary, above it, stands for it
        shown.add(hit.memory.id)
        kept.append(hit)
    return kept


def _fact_links(store: MemoryStore, facts: list[int]) -> tuple[dict[int, list[int]], set[int]]:
    """Each fact's source lines (derived_from), and the facts in an update (one that
    supersedes another or is superseded: it tells which of two versions holds now)."""
    sources: dict[int, list[int]] = {}
    updates: set[int] = set()
    for fact in facts:
        out = store.links_from(fact)
        sources[fact] = [link.to_id for link in out if link.relation == "derived_from"]
        if any(link.relation == "supersedes" for link in [*out, *store.links_to(fact)]):
            updates.add(fact)
    return sources, updates


def _facts_through_sources(
    hits: list[RecallHit], sources: dict[int, list[int]], updates: set[int]
) -> list[RecallHit]:
    by_id = {h.memory.id: h for h in hits}
    through: set[int] = set()
    for hit in hits:
        if hit.memory.id in updates:
            continue
        matched = [
            by_id[source]
            for source in sources.get(hit.memory.id, ())
            if source in by_id and holds_its_words(by_id[source].memory)
        ]
        if not matched:
            continue
        through.add(hit.memory.id)
        for line in matched:
            if hit.score > by_id[line.memory.id].score:
                by_id[line.memory.id] = replace(by_id[line.memory.id], score=hit.score)
    if not through:
        return hits
    kept = [h for mid, h in by_id.items() if mid not in through]
    return sorted(kept, key=lambda h: (-h.score, -h.memory.occurred_at, h.memory.id))


def _current_first(
    store: MemoryStore, hits: list[RecallHit], updates: set[int], now: float
) -> list[RecallHit]:
    """Each fact an update replaced comes right after the fact that holds now (found for it
    when recall did not find it): history is kept and shown, but below what is true now.
    `updates`: the facts among the candidates that are in an update (`_fact_links`)."""
    listed = [h.memory.id for h in hits if h.memory.id in updates]
    newest = {mid: now_holds for mid in listed if (now_holds := newest_version(store, mid)) != mid}
    if not newest:
        return hits
    by_id = {h.memory.id: h for h in hits}
    fetched = store.get_many([i for i in newest.values() if i not in by_id])
    placed: set[int] = set()
    ordered = []
    for hit in hits:
        holds = newest.get(hit.memory.id)
        if holds is not None and holds not in placed:
            if holds in by_id:
                ordered.append(by_id[holds])
            elif holds in fetched:
                memory = fetched[holds]
                ordered.append(
                    RecallHit(memory, hit.score, None, None, None, retention(memory, now))
                )
            placed.add(holds)
        if hit.memory.id not in placed:
            ordered.append(hit)
            placed.add(hit.memory.id)
    return ordered


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
    include_chat: bool | None = None,
) -> list[RecallHit]:
    """The k memories that best answer `query`, best first; past exchanges with papertape
    only when `include_chat` (default: the chat_as_evidence setting), and last."""
    with_chat = settings.chat_as_evidence if include_chat is None else include_chat
    limit = k or settings.recall_k
    pool = max(settings.recall_candidates, limit)
    similarity: dict[int, float] = {}
    if mode != "keyword":
        asked = embed_query(embedder, query)
        similarity = dict(store.vector_search(asked, pool))
        if settings.reply_context and similarity:
            gap = settings.episode_gap_minutes * 60.0
            similarity = with_answered_lines(store, asked, similarity, gap, pool)
    keyword_hits = store.keyword_search(query_terms(query), pool) if mode != "vector" else []
    bm25 = dict(keyword_hits)
    by_similarity = sorted(similarity, key=lambda mid: -similarity[mid])
    vector_rank = {mid: rank for rank, mid in enumerate(by_similarity, start=1)}
    keyword_rank = {mid: rank for rank, mid in enumerate(bm25, start=1)}
    lowest = min(similarity.values(), default=0.0)
    spread = max(max(similarity.values(), default=0.0) - lowest, settings.vector_min_spread) or 1.0
    best_two = sorted(bm25.values(), reverse=True)[:2]
    top_bm25 = (best_two[0] if best_two else 0.0) or 1.0
    gap = (best_two[0] - best_two[1]) / top_bm25 if len(best_two) == 2 else 0.0
    keyword_weight = settings.keyword_weight * (1 + settings.keyword_confidence * gap)
    use_retention = settings.retention_weight if mode == "fused" else 0.0

    candidates = store.get_many(list({**similarity, **bm25}))
    facts = [mid for mid, m in candidates.items() if m.kind == "fact"]
    sources, updates = _fact_links(store, facts)
    source_rows = store.get_many([s for ids in sources.values() for s in ids])
    hits = []
    for mid, memory in candidates.items():
        if memory.kind == "document":
            continue  # a document's title row; its passages carry the text
        if memory.kind == "chat" and not with_chat:
            continue
        lines = [source_rows[s] for s in sources.get(mid, ()) if s in source_rows]
        r = max((retention(line, now) for line in lines), default=retention(memory, now))
        score = use_retention * r
        if mid in similarity:
            score += settings.vector_weight * (similarity[mid] - lowest) / spread
        if mid in bm25:
            score += keyword_weight * bm25[mid] / top_bm25
        hits.append(
            RecallHit(
                memory, score, similarity.get(mid), vector_rank.get(mid), keyword_rank.get(mid), r
            )
        )
    hits.sort(key=lambda h: (-h.score, -h.memory.occurred_at, h.memory.id))
    hits = _facts_through_sources(hits, sources, updates)
    ranked = _current_first(store, _with_episode_summaries(store, hits, now), updates, now)
    ranked.sort(key=lambda h: h.memory.kind == "chat")  # stable: what was stored comes first
    top = ranked[:limit]
    if strengthen:
        met_again(store, [h.memory for h in top], now, settings.recall_growth)
    return top


def met_again(store: MemoryStore, memories: list[Memory], now: float, growth: float) -> None:
    """Count `memories` as recalled at `now`, and with them the facts drawn from them: a fact
    answers through its lines when they matched too (so it is not in the list), and the
    knowledge it holds was what the person came for. Without this the lines would stay
    sharp and the facts meant to outlive them would fade first."""
    if not memories:
        return
    ids = {m.id for m in memories}
    derived = [
        link.from_id
        for m in memories
        if m.kind != "fact"
        for link in store.links_to(m.id)
        if link.relation == "derived_from" and link.from_id not in ids
    ]
    facts = [m for m in store.get_many(derived).values() if m.kind == "fact"]
    store.record_recalls((m.id, strengthened(m, now, growth), now) for m in [*memories, *facts])
