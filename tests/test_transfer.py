"""Export/import: a lossless round trip, all-or-nothing imports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.errors import UserError
from agent.ingest.notes import content_hash
from agent.memory.transfer import is_memory_line
from agent.service import Papertape
from agent.settings import load_settings
from models.fake_embedder import FakeEmbedder
from tests.conftest import NOW, distil
from tests.test_chat import plant, reply, session


def fill(app: Papertape, tmp_path: Path) -> None:
    app.note("first note", now=NOW, occurred_at=NOW - 100.5)
    app.note("pinned note", now=NOW)
    doc = tmp_path / "doc.md"
    doc.write_text("# Long\n\n" + "\n\n".join(f"paragraph {i} " * 30 for i in range(6)))
    app.ingest([doc], now=NOW + 0.25)
    app.set_pinned([2], True)
    app.recall("first", now=NOW + 86400.123456, k=1)


def second_home(tmp_path: Path) -> Papertape:
    """Another, empty home to import into."""
    settings = load_settings(tmp_path / "other", overrides={"embedder": "fake"})
    return Papertape(settings, embedder=FakeEmbedder())


def rows(app: Papertape) -> list[tuple[object, ...]]:
    memories = [tuple(m.__dict__.values()) for m in app.store.iter_memories()]
    links = list(app.store.conn.execute("SELECT * FROM memory_links ORDER BY 1, 2"))
    vectors = [app.store.vector(m.id) for m in app.store.iter_memories()]
    return memories + links + [None if v is None else v.tobytes() for v in vectors]


def test_round_trip_is_lossless(app: Papertape, tmp_path: Path) -> None:
    fill(app, tmp_path)
    exported = list(app.export())
    memories = [line for line in exported if is_memory_line(line)]
    assert len(memories) == len(exported) - 1  # and the last line, with the store's count
    with second_home(tmp_path) as other:
        report = other.import_(exported)
        assert (report.imported, report.duplicates, report.reembedded) == (len(memories), 0, 0)
        assert report.closed
        assert list(other.export()) == exported
        assert rows(other) == rows(app)
        again = other.import_(exported)
        assert (again.imported, again.duplicates) == (0, len(memories))


def test_every_line_carries_every_field(app: Papertape, tmp_path: Path) -> None:
    fill(app, tmp_path)
    record = json.loads(next(iter(app.export())))
    assert set(record) >= {
        "id",
        "kind",
        "source",
        "occurred_at",
        "ingested_at",
        "content_hash",
        "text",
        "tier",
        "importance",
        "strength",
        "last_recalled_at",
        "recall_count",
        "pinned",
        "links",
        "vector",
        "embedder",
    }


def test_a_bad_line_imports_nothing(app: Papertape, tmp_path: Path) -> None:
    fill(app, tmp_path)
    lines = list(app.export())
    with second_home(tmp_path) as other:
        broken = [*lines[:3], "{not json", *lines[3:]]
        with pytest.raises(UserError, match="line 4"):
            other.import_(broken)
        bad_tier = json.loads(lines[0]) | {"tier": "frozen"}
        with pytest.raises(UserError, match="tier"):
            other.import_([json.dumps(bad_tier)])
        dangling = json.loads(lines[-2]) | {"links": [{"to": 999, "relation": "part_of"}]}
        with pytest.raises(UserError, match="999"):
            other.import_([*lines[:-2], json.dumps(dangling), lines[-1]])
        assert other.store.count() == 0


def test_vectors_of_another_embedder_are_recomputed(app: Papertape, tmp_path: Path) -> None:
    app.note("first note", now=NOW)
    record = json.loads(next(iter(app.export()))) | {"embedder": "elsewhere"}
    with second_home(tmp_path) as other:
        assert other.import_([json.dumps(record)]).reembedded == 1
        assert other.store.vector(record["id"]) is not None


def test_import_into_a_busy_store_keeps_links_right(app: Papertape, tmp_path: Path) -> None:
    fill(app, tmp_path)
    exported = list(app.export())
    with second_home(tmp_path) as other:
        for i in range(5):
            other.note(f"something else {i}", now=NOW)  # takes ids 1..5
        other.import_(exported)
        doc = next(m for m in other.store.iter_memories() if m.kind == "document")
        parts = other.store.links_to(doc.id)
        assert len(parts) >= 2
        assert all(other.store.get(p.from_id).source.endswith("doc.md") for p in parts)  # type: ignore[union-attr]


def test_round_trip_keeps_tiers_pages_and_light_vectors(tmp_path: Path) -> None:
    settings = load_settings(
        tmp_path / "aged", overrides={"embedder": "fake", "summarizer": "extractive"}
    )
    with Papertape(settings, embedder=FakeEmbedder()) as app:
        trip = [
            app.note(f"trip day {i}: walked to the {i}th lighthouse", now=NOW + 60 * i).memory_id
            for i in range(4)
        ]
        assert None not in trip
        distil(
            app, [i for i in trip if i is not None], "Walked to four lighthouses."
        )  # read for facts: pages, gists
        app.consolidate(now=NOW + 48 * 86400)  # hazy, with pages and a summary
        app.note("a note from the middle", now=NOW + 200 * 86400)
        app.note("fresh note", now=NOW + 260 * 86400)
        app.consolidate(now=NOW + 261 * 86400)  # old ones archived, the middle one hazy
        exported = list(app.export())
        tiers = {json.loads(line)["tier"] for line in exported if is_memory_line(line)}
        assert tiers == {"sharp", "hazy", "archive"}
        with second_home(tmp_path) as other:
            other.import_(exported)
            assert list(other.export()) == exported
            for memory in app.store.iter_memories():
                assert other.store.encoded_vector(memory.id) == app.store.encoded_vector(memory.id)
                assert other.store.blobs_of(memory.id) == app.store.blobs_of(memory.id)
            assert other.stats().bytes == app.stats().bytes


def test_a_vector_in_the_wrong_encoding_is_refused(app: Papertape, tmp_path: Path) -> None:
    app.note("a note", now=NOW)
    record = json.loads(next(app.export()))
    record["vector_encoding"] = "bit"
    with second_home(tmp_path) as other, pytest.raises(UserError, match="cannot hold"):
        other.import_([json.dumps(record)])


def test_exchanges_round_trip_and_older_ones_still_import(app: Papertape, tmp_path: Path) -> None:
    ids = plant(app)
    for name in ("monday", "tuesday"):  # the same exchange, kept in each conversation
        session(app, [reply("On Thursday", [ids[2]])], session=name).ask(
            "When does the plumber come?", now=NOW + 60
        )
    exported = list(app.export())
    records = [json.loads(line) for line in exported if is_memory_line(line)]
    chats = [record for record in records if record["kind"] == "chat"]
    assert len(chats) == 2
    with second_home(tmp_path) as other:
        assert other.import_(exported).imported == len(records)
    # An exchange exported before exchanges were hashed with their conversation: its hash is
    # its text's alone, and imports; a changed text does not.
    older = {**chats[0], "content_hash": content_hash(chats[0]["text"]), "id": 1, "links": []}
    changed = {**older, "text": chats[0]["text"] + " (edited)"}
    with Papertape(load_settings(tmp_path / "third", overrides={"embedder": "fake"})) as third:
        assert third.import_([json.dumps(older)]).imported == 1
        with pytest.raises(UserError, match="content hash does not match"):
            third.import_([json.dumps({**changed, "id": 2})])
