"""Recall's filters (agent/filters.py), as the UI and MCP apply them: "document" keeps the
passages of documents, whose own title row recall never ranks."""

from __future__ import annotations

from pathlib import Path

from agent.filters import Filters
from agent.service import Papertape
from tests.conftest import NOW


def test_the_document_kind_keeps_a_documents_passages(app: Papertape, tmp_path: Path) -> None:
    lease = tmp_path / "lease.md"
    clause = "Clause {}: the lighthouse keeper pays rent monthly. "
    lease.write_text("\n\n".join(clause.format(i) * 12 for i in range(4)), encoding="utf-8")
    (document,) = app.ingest([lease], now=NOW)
    note = app.note("The lighthouse keeper waved from the pier.", now=NOW + 60)
    hits = app.recall("lighthouse keeper", now=NOW + 120, k=20, strengthen=False)
    memories = {h.memory.id: h.memory for h in hits}
    assert note.memory_id in memories
    assert document.memory_id not in memories  # the title row is never ranked
    passages = [m for m in memories.values() if m.id != note.memory_id]
    assert len(passages) >= 2
    kept = [m.id for m in memories.values() if Filters(kind="document").passes(app, m)]
    assert sorted(kept) == sorted(m.id for m in passages)
    texts = [m.id for m in memories.values() if Filters(kind="text").passes(app, m)]
    assert note.memory_id in texts  # passages are text too: the kind they are stored as


def test_tier_and_time_bounds(app: Papertape) -> None:
    early = app.note("Fennel in the blue tin", now=NOW, occurred_at=NOW - 86400)
    late = app.note("Fennel seeds sown", now=NOW)
    memories = {h.memory.id: h.memory for h in app.recall("fennel", now=NOW, strengthen=False)}
    assert not Filters().given
    since = Filters(low=NOW - 3600)
    assert since.given
    assert [i for i, m in memories.items() if since.passes(app, m)] == [late.memory_id]
    before = Filters(high=NOW - 3600)
    assert [i for i, m in memories.items() if before.passes(app, m)] == [early.memory_id]
    assert late.memory_id is not None
    assert not Filters(tier="archive").passes(app, memories[late.memory_id])
    assert Filters(tier="sharp").passes(app, memories[late.memory_id])
