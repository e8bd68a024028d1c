"""Forgetting on request: a memory and every copy of its words, for good.

`papertape forget` (and the UI's `f`) deletes more than the rows named:
- a document's passages, which hold its text;
- chat turns derived from a forgotten memory (they cite it, and may quote it), and turns
  citing those, until none is left;
- the facts made from it (agent/memory/facts.py) that rest on nothing else, or that hold a word of
  it no other source of theirs holds; a fact that rests on other memories as well, and needs
  none of its words, only loses the link (and the chat turns citing a fact that goes, go);
- chat turns and facts that hold a word only the forgotten memories held, though they do
  not cite them: a small model answers from a line it was shown and cites another beside
  it, so a turn can quote a note it is not linked to;
- its words in an episode summary: a summary that covered it is written again, extractively,
  from the members that remain (their current text, a gist where words have left), with a new
  vector and its page rendered again from the new text; a summary left with fewer than two
  members is deleted, page and all.
All of it in one transaction; then the WAL is folded back so no deleted page lingers there.
An edit forgets the words it takes out the same way (`edit`).
Memories that fade and are forgotten by consolidation go through lifecycle.py instead: a
summary is meant to outlive the details it stands for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from agent.memory.facts import FACT_MARK, forgotten_with
from agent.memory.pages import DEFAULT_FONT_PX, DEFAULT_FORMAT, render_page
from agent.memory.summaries import ExtractiveSummarizer, summary_hash
from agent.memory.times import TIME_MARK
from agent.turns import split_turn
from agent.words import words
from models import Embedder
from models.embedder import embed_one
from storage import Memory, MemoryStore

# Links whose source holds words of their target: forgetting the target takes them too.
CARRIES_WORDS = ("part_of", "derived_from")
# What papertape writes from what the person stored; it may repeat their words unlinked.
DERIVED_KINDS = frozenset({"chat", "fact"})
# Not what the person stored: a summary is written again from its members (below).
WRITTEN_BY_PAPERTAPE = DERIVED_KINDS | {"summary"}
# A word this many memories hold besides those being forgotten is a common word.
HOLDERS_LOOKED_AT = 64


def doomed_with(store: MemoryStore, ids: Iterable[int]) -> list[int]:
    """`ids` and every memory that carries their words (passages, chat turns, facts), in
    order."""
    doomed = list(dict.fromkeys(ids))
    seen = set(doomed)

    def walk(start: int) -> None:
        for memory_id in doomed[start:]:  # grows while it is walked: turns that cite turns
            for link in store.links_to(memory_id):
                if link.relation in CARRIES_WORDS and link.from_id not in seen:
                    memory = store.get(link.from_id)
                    if memory is not None and memory.kind == "fact":
                        continue  # decided below, once every source's fate is known
                    seen.add(link.from_id)
                    doomed.append(link.from_id)

    walk(0)
    # Facts derive from what the person stored, never from chat turns or other facts, so
    # one more walk (the turns citing the facts that go) closes it.
    facts = [f for f in forgotten_with(store, doomed) if f not in seen]
    seen.update(facts)
    stored = store.get_many(doomed)
    said = set().union(
        *(words(m.text) for m in stored.values() if m.kind not in WRITTEN_BY_PAPERTAPE)
    )
    unlinked = [i for i in echoes(store, said, seen) if i not in seen]
    seen.update(unlinked)
    before = len(doomed)
    doomed += facts + unlinked
    walk(before)
    return doomed


def echoes(store: MemoryStore, said: set[str], leaving: set[int]) -> list[int]:
    """The chat turns and facts outside `leaving` that hold a word of `said` which no
    memory the person stored holds, once `leaving` is gone: copies of words that are
    going, whether or not they are linked to what held them. Words are searched in the
    keyword index, then read as `words` reads them."""
    found: dict[int, None] = {}
    most = HOLDERS_LOOKED_AT + len(leaving)
    for word in sorted(said):
        matched = store.keyword_search([word], most)
        if len(matched) >= most:
            continue  # a common word: more than what is leaving hold it
        hits = [i for i, _ in matched if i not in leaving]
        holding = [m for m in store.get_many(hits).values() if word in said_in(m)]
        if any(m.kind not in WRITTEN_BY_PAPERTAPE for m in holding):
            continue
        found.update((m.id, None) for m in holding if m.kind in DERIVED_KINDS)
    return list(found)


def said_in(memory: Memory) -> set[str]:
    """The words a memory says: of an exchange with papertape, its question and answer, not
    the frame they are kept in ("Q:", "A:", the status)."""
    turn = split_turn(memory.text) if memory.kind == "chat" else None
    return words(" ".join(turn)) if turn else words(memory.text)


def forget(
    store: MemoryStore,
    embedder: Callable[[], Embedder],
    ids: Iterable[int],
    *,
    page_font_px: int = DEFAULT_FONT_PX,
    page_format: str = DEFAULT_FORMAT,
) -> list[int]:
    """Delete `ids` and what carries their words; rewrite or delete the summaries that
    covered them (a rewritten summary's page is rendered again in the page style given).
    `embedder()` is called (a model loaded) only when a summary is rewritten. Returns every
    id deleted."""
    doomed = doomed_with(store, ids)
    gone = set(doomed)
    summaries = {
        link.from_id
        for memory_id in doomed
        for link in store.links_to(memory_id)
        if link.relation == "summarizes" and link.from_id not in gone
    }
    rewrites: dict[int, tuple[list[int], str]] = {}
    for summary_id in sorted(summaries):
        members = [
            link.to_id
            for link in store.links_from(summary_id)
            if link.relation == "summarizes" and link.to_id not in gone
        ]
        remaining = store.get_many(members)
        texts = [remaining[m].text for m in members if m in remaining]
        text = ExtractiveSummarizer().summarize(texts) if len(texts) > 1 else ""
        if text:
            rewrites[summary_id] = (members, text)
        else:
            doomed.append(summary_id)
            gone.add(summary_id)
    model = embedder() if rewrites else None
    vectors = {sid: embed_one(model, text) for sid, (_, text) in rewrites.items() if model}
    with store.transaction():
        for summary_id, (members, text) in rewrites.items():
            store.replace_text(summary_id, text, summary_hash(members, text), vectors[summary_id])
            if store.blob(summary_id, "page") is not None:
                page = render_page(text, font_px=page_font_px, fmt=page_format)
                store.put_blob(page.blob(summary_id))
        store.delete(doomed)
    store.checkpoint()  # so the deleted pages do not linger in the WAL
    return doomed


def edit(
    store: MemoryStore, memory_id: int, text: str, content_hash: str, vector: np.ndarray | None
) -> list[int]:
    """Replace a memory's text, and forget the words the edit takes out (a person edits to
    remove what should not be kept): the facts and chat turns that carry one of them go,
    the memory is read again for time words and facts at the next consolidation, and the
    WAL is folded back so the old text lingers in no file. Returns the ids deleted."""
    old = store.get(memory_id)
    if old is None:
        return []
    leaving = words(old.text) - words(text)
    carriers = [i for i in doomed_with(store, [memory_id]) if i != memory_id]
    found = store.get_many(carriers)
    doomed = [i for i in carriers if i in found and words(found[i].text) & leaving]
    with store.transaction():
        store.replace_text(memory_id, text, content_hash, vector)
        store.delete(doomed)
        store.drop_time(memory_id)
        store.unmark([memory_id], TIME_MARK)
        store.unmark([memory_id], FACT_MARK)
    store.checkpoint()
    return doomed
