"""Storage against real SQLite with sqlite-vec and FTS5."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from storage import MemoryStore, NewMemory, StorageError, StoreMismatchError, open_connection
from storage.migrate import applied_migrations
from storage.migrations import MIGRATIONS


def new(
    text: str, *, chash: str | None = None, kind: str = "text", at: float = 1000.0
) -> NewMemory:
    return NewMemory(
        kind=kind,
        source="test",
        occurred_at=at,
        ingested_at=at,
        content_hash=chash or f"hash:{text}",
        text=text,
        strength=7.0,
    )


def unit(*values: float) -> np.ndarray:
    vector = np.zeros(384, dtype=np.float32)
    vector[: len(values)] = values
    return vector / np.linalg.norm(vector)


def test_connection_has_wal_secure_delete_foreign_keys_and_extensions(tmp_path: Path) -> None:
    conn = open_connection(tmp_path / "c.db")
    assert next(iter(conn.execute("PRAGMA journal_mode")))[0] == "wal"
    assert next(iter(conn.execute("PRAGMA secure_delete")))[0] == 1
    assert next(iter(conn.execute("PRAGMA foreign_keys")))[0] == 1
    assert next(iter(conn.execute("SELECT vec_version()")))[0].startswith("v0.1")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(x)")  # FTS5 is compiled in


def test_connection_error_is_a_sentence(tmp_path: Path) -> None:
    (tmp_path / "folder.db").mkdir()
    with pytest.raises(StorageError, match="cannot open the store"):
        open_connection(tmp_path / "folder.db")


def test_migrations_apply_in_order_once(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    MemoryStore.open(path, vector_dim=384, embedder="fake").close()
    with MemoryStore.open(path, vector_dim=384, embedder="fake") as store:
        assert applied_migrations(store.conn) == [name for name, _ in MIGRATIONS]


def test_store_refuses_vectors_of_another_embedder(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    MemoryStore.open(path, vector_dim=384, embedder="minilm").close()
    with pytest.raises(StoreMismatchError, match="minilm"):
        MemoryStore.open(path, vector_dim=8, embedder="other")


def test_add_get_and_unique_hash(store: MemoryStore) -> None:
    with store.transaction():
        memory_id = store.add(new("hello world"), unit(1))
    got = store.get(memory_id)
    assert got is not None
    assert got.text == "hello world"
    assert got.tier == "sharp"
    assert got.vector_bytes == 384 * 4
    assert store.find_by_hash("hash:hello world") == memory_id
    with pytest.raises(StorageError, match="already stored"), store.transaction():
        store.add(new("hello world"), unit(1))
    # Hashes and ids are unique across both files, faded rows included.
    with store.transaction():
        faded = store.add(new("gone hazy"), unit(2))
        store.move_to_tier(faded, "hazy")
    with pytest.raises(StorageError, match="already stored"):
        store.add(new("gone hazy"), unit(2))
    with pytest.raises(StorageError, match=f"id {faded} already exists"):
        store.add(replace(new("another"), id=faded), unit(3))
    assert store.add(new("next"), unit(4)) == faded + 1


def test_a_failed_transaction_leaves_nothing(store: MemoryStore) -> None:
    def add_two() -> None:
        with store.transaction():
            store.add(new("first"), unit(1))
            store.add(new("second"), np.ones(5))  # wrong dimension: the whole transaction goes

    with pytest.raises(StorageError):
        add_two()
    assert store.count() == 0
    assert store.vector_search(unit(1), 5) == []
    assert store.keyword_search(["first"], 5) == []


def test_vector_search_orders_by_cosine(store: MemoryStore) -> None:
    with store.transaction():
        far = store.add(new("far"), unit(0, 1))
        near = store.add(new("near"), unit(1, 0.1))
        mid = store.add(new("mid"), unit(1, 1))
    hits = store.vector_search(unit(1), 3)
    assert [i for i, _ in hits] == [near, mid, far]
    assert hits[0][1] == pytest.approx(float(unit(1) @ unit(1, 0.1)), abs=1e-5)


def test_keyword_search_ranks_by_bm25_and_escapes_syntax(store: MemoryStore) -> None:
    with store.transaction():
        both = store.add(new("red apples and green pears"), unit(1))
        one = store.add(new("green fields"), unit(2))
        store.add(new("nothing relevant here"), unit(3))
    hits = store.keyword_search(["apples", "green"], 10)
    assert [i for i, _ in hits] == [both, one]
    assert store.keyword_search(['AND "NEAR(', "OR"], 10) == []  # syntax is quoted, not run


def test_stemming_finds_other_word_forms(store: MemoryStore) -> None:
    with store.transaction():
        memory_id = store.add(new("she was running marathons"), unit(1))
    assert [i for i, _ in store.keyword_search(["runs"], 5)] == [memory_id]


def test_delete_removes_row_vector_index_and_links(store: MemoryStore) -> None:
    with store.transaction():
        doc = store.add(new("the document", kind="document"), None)
        part = store.add(new("zanzibarquokka secret passage"), unit(1))
        store.link(part, doc, "part_of", 0)
    assert store.links_to(doc)[0].from_id == part
    assert store.delete([part]) == 1
    assert store.get(part) is None
    assert store.vector(part) is None
    assert store.keyword_search(["zanzibarquokka"], 5) == []
    assert store.links_to(doc) == []


def test_unlink_into_removes_only_that_relation_into_that_memory(store: MemoryStore) -> None:
    with store.transaction():
        old, newer, newest, note = (store.add(new(f"memory {i}"), unit(i + 1)) for i in range(4))
        store.link(newer, old, "supersedes")
        store.link(newest, old, "supersedes")
        store.link(old, note, "derived_from")
        store.link(newest, newer, "supersedes")
    assert store.unlink_into(old, "supersedes") == [newer, newest]
    assert store.links_to(old) == []
    assert [(link.to_id, link.relation) for link in store.links_from(old)] == [
        (note, "derived_from")
    ]
    assert [link.from_id for link in store.links_to(newer)] == [newest]
    assert store.unlink_into(old, "supersedes") == []


def test_deleted_text_is_not_left_in_the_file_or_wal(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with MemoryStore.open(path, vector_dim=384, embedder="fake") as store:
        with store.transaction():
            for i in range(50):
                store.add(new(f"ordinary filler note number {i}"), unit(1, i))
            secret = store.add(new("my zanzibarquokka password hint"), unit(2))
        store.checkpoint()
        assert b"zanzibarquokka" in path.read_bytes()
        store.delete([secret])
        store.checkpoint()
        wal = Path(str(path) + "-wal")
        leftovers = path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
        assert b"zanzibarquokka" not in leftovers
        assert store.integrity_check() == "ok"


def test_stats_count_text_and_vector_bytes(store: MemoryStore) -> None:
    with store.transaction():
        store.add(new("abc"), unit(1))
        store.add(new("é", kind="chat"), None)
    stats = store.stats()
    assert stats.memories == 2
    assert stats.tiers["sharp"].count == 2
    assert stats.tiers["hazy"].count == 0
    assert stats.kinds["text"].bytes == 3 + 384 * 4
    assert stats.kinds["chat"].bytes == 2  # UTF-8 bytes, not characters
    assert stats.bytes == 3 + 384 * 4 + 2


def test_recall_updates_strength_and_count(store: MemoryStore) -> None:
    with store.transaction():
        memory_id = store.add(new("x"), unit(1))
    store.record_recalls([(memory_id, 11.5, 5000.0)])
    got = store.get(memory_id)
    assert got is not None
    assert (got.strength, got.last_recalled_at, got.recall_count) == (11.5, 5000.0, 1)


def test_pin_and_unknown_id(store: MemoryStore) -> None:
    with store.transaction():
        memory_id = store.add(new("x"), unit(1))
    assert store.set_pinned(memory_id, True)
    assert store.get(memory_id).pinned  # type: ignore[union-attr]
    assert not store.set_pinned(999, True)


def test_new_memory_validates_its_fields() -> None:
    with pytest.raises(ValueError, match="valid kinds"):
        new("x", kind="video")
    with pytest.raises(ValueError, match="importance"):
        NewMemory(
            kind="text",
            source="s",
            occurred_at=0,
            ingested_at=0,
            content_hash="h",
            text="t",
            strength=1,
            importance=2,
        )


def test_links_marks_and_meta_are_written_in_a_transaction(tmp_path: Path) -> None:
    with MemoryStore.open(tmp_path / "m.db", vector_dim=384, embedder="fake") as store:
        first = store.add(new("first"), unit(1, 0, 0))
        second = store.add(new("second"), unit(0, 1, 0))
        seen: list[bool] = []

        def trace(cursor: object, sql: str, bindings: object) -> bool:
            if sql.lstrip().upper().startswith("INSERT"):
                seen.append(store.conn.in_transaction)  # before it runs: inside a BEGIN?
            return True

        store.conn.exec_trace = trace
        store.link(first, second, "summarizes")
        store.mark([first], "facts")
        store.set_meta("consolidated_at", "1")
        store.conn.exec_trace = None
        assert len(seen) == 3
        assert all(seen)
        assert not store.conn.in_transaction  # and each was committed
