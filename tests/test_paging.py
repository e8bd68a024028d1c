"""Flash-aware layout in real SQLite with sqlite-vec: the cold file, re-ranking, the window of
recent recalls, the RAM budget and the migration from the per-tier vector tables."""

from __future__ import annotations

from pathlib import Path

import apsw
import numpy as np
import pytest

from agent.errors import UserError
from agent.settings import load_settings
from storage import (
    Blob,
    MemoryStore,
    NewMemory,
    RamBudget,
    StorageError,
    cold,
    journal,
    open_connection,
    store_files,
)
from storage.migrations import MIGRATIONS, STALE_SCAN_INDEX, SchemaContext
from storage.vectors import encode

DIM = 384


def unit(rng: np.random.Generator) -> np.ndarray:
    vector = rng.standard_normal(DIM).astype(np.float32)
    return vector / np.linalg.norm(vector)


def new(text: str, tier: str = "sharp", at: float = 1.0) -> NewMemory:
    return NewMemory(
        kind="text",
        source="t",
        occurred_at=at,
        ingested_at=at,
        content_hash=f"h:{text}",
        text=text,
        strength=7.0,
        tier=tier,
    )


def pragma(store: MemoryStore, statement: str) -> object:
    return next(iter(store.conn.execute(f"PRAGMA {statement}")))[0]


def cold_count(store: MemoryStore) -> int:
    return cold.count(store.conn)


def scalar(store: MemoryStore, sql: str) -> object:
    return next(iter(store.conn.execute(sql)))[0]


def test_cold_file_has_large_pages_mmap_and_the_budget(tmp_path: Path) -> None:
    budget = RamBudget(16 * 1024)
    with MemoryStore.open(
        tmp_path / "store.db", vector_dim=DIM, embedder="fake", budget=budget
    ) as store:
        assert (tmp_path / "store-cold.db").exists()
        assert pragma(store, "cold.page_size") == 16384
        assert pragma(store, "main.page_size") == 4096
        assert pragma(store, "cold.journal_mode") == "wal"
        assert pragma(store, "cold.secure_delete") == 1
        assert pragma(store, "cold.mmap_size") == budget.cold_mmap_bytes == 4 * 1024 * 1024
        assert pragma(store, "main.cache_size") == -budget.main_cache_kib == -8192
        assert pragma(store, "cold.cache_size") == -budget.cold_cache_kib
        assert store.window.budget_bytes == budget.window_bytes
        assert {p.name for p in store_files(tmp_path / "store.db") if p.exists()} >= {
            "store.db",
            "store-cold.db",
        }


@pytest.mark.needs("onnxruntime", "tokenizers", "minilm-int8-onnx", "minilm-tokenizer")
def test_ram_budget_setting_reaches_the_store(tmp_path: Path) -> None:
    from agent.service import Papertape

    settings = load_settings(tmp_path, overrides={"ram_budget_mb": 8}, env={})
    with Papertape(settings) as app:
        app.note("a note so the store opens", now=1.0)
        assert app.store.budget.total_kib == 8 * 1024
        assert pragma(app.store, "main.cache_size") == -4 * 1024
    with pytest.raises(UserError, match="ram_budget_mb must be at least 1"):
        load_settings(tmp_path, overrides={"ram_budget_mb": 0}, env={})


def test_faded_search_reranks_bit_candidates_to_the_exact_order(store: MemoryStore) -> None:
    rng = np.random.default_rng(7)
    query = unit(rng)
    stored: dict[int, np.ndarray] = {}
    with store.transaction():
        for i in range(400):
            # Some near the query at graded distances: the order among them is what sign
            # bits alone get wrong.
            vector = unit(rng) + (query * (0.25 * i / 20) if i % 20 == 0 else 0)
            vector = vector / np.linalg.norm(vector)
            tier = ("hazy", "archive")[i % 2 if i % 3 else 0]
            stored[store.add(new(f"m{i}", tier), vector)] = vector
    exact = sorted(stored, key=lambda mid: -float(stored[mid] @ query))[:10]
    hits = store.vector_search(query, 10)
    assert {mid for mid, _ in hits} == set(exact)  # order may differ only within int8 rounding
    for mid, score in hits:  # int8 scores, not the bits' rough angle estimate
        assert score == pytest.approx(float(stored[mid] @ query), abs=0.01)
    only_hazy = store.vector_search(query, 10, tiers=("hazy",))
    assert only_hazy
    found = [store.get(mid) for mid, _ in only_hazy]
    assert [m.tier if m else None for m in found] == ["hazy"] * len(only_hazy)


def test_moves_keep_the_cold_index_in_step_and_forgetting_clears_it(store: MemoryStore) -> None:
    rng = np.random.default_rng(1)
    with store.transaction():
        ids = [store.add(new(f"n{i}"), unit(rng)) for i in range(3)]
    assert cold_count(store) == 0
    with store.transaction():
        store.move_to_tier(ids[0], "hazy")
        store.move_to_tier(ids[1], "archive")
    assert cold_count(store) == 2
    assert scalar(store, "SELECT count(*) FROM memory_vectors") == 1
    store.delete([ids[1]])
    assert cold_count(store) == 1
    assert store.encoded_vector(ids[1]) is None


def table_order(store: MemoryStore, schema: str) -> list[tuple[object, ...]]:
    """Rows in the order a scan of the table reads them, which is their order on disk (the
    text column keeps SQLite from answering from the smaller id index instead)."""
    rows = store.conn.execute(f"SELECT tier, occurred_at, id, text FROM {schema}.memories")
    return [(tier, when, mid) for tier, when, mid, _ in rows]


def test_faded_rows_live_in_the_cold_file_clustered_by_tier_and_time(store: MemoryStore) -> None:
    rng = np.random.default_rng(2)
    times = rng.permutation(60).astype(float)  # ingested in an order unrelated to time
    with store.transaction():
        ids = [store.add(new(f"note {i}", at=when), unit(rng)) for i, when in enumerate(times)]
    with store.transaction():
        for i, mid in enumerate(ids[:40]):
            store.put_blob(Blob(mid, "page", "image/webp", b"page of %d" % mid))
            store.move_to_tier(mid, ("hazy", "archive")[i % 2], text=f"gist {i}")
    main_rows, cold_rows = table_order(store, "main"), table_order(store, "cold")
    assert {tier for tier, _, _ in main_rows} == {"sharp"}
    assert len(main_rows) == 20
    assert {tier for tier, _, _ in cold_rows} == {"hazy", "archive"}
    assert len(cold_rows) == 40
    # On disk, by time in the main file and by tier then time in the cold file.
    assert [(t, i) for _, t, i in main_rows] == sorted((t, i) for _, t, i in main_rows)
    assert cold_rows == sorted(cold_rows)
    # A faded memory's blobs moved with it, and its text is found by keyword.
    moved = ids[3]
    assert scalar(store, f"SELECT count(*) FROM cold.memory_blobs WHERE memory_id = {moved}") == 1
    assert scalar(store, f"SELECT count(*) FROM main.memory_blobs WHERE memory_id = {moved}") == 0
    assert store.blob(moved, "page") == Blob(moved, "page", "image/webp", b"page of %d" % moved)
    assert [mid for mid, _ in store.keyword_search(["gist", "3"], 1)] == [moved]
    assert store.keyword_search(["note"], 100)
    assert all(mid in ids[40:] for mid, _ in store.keyword_search(["note"], 100))
    # Browsing newest first merges both files.
    newest = store.newest(None, 60)
    assert [m.occurred_at for m in newest] == sorted(times, reverse=True)
    assert store.count() == 60
    assert store.stats().tiers["hazy"].count == 20


def test_recall_window_takes_neighbours_in_time_from_the_cold_file(store: MemoryStore) -> None:
    rng = np.random.default_rng(9)
    with store.transaction():
        ids = [store.add(new(f"day {i}", at=float(i)), unit(rng)) for i in (5, 1, 4, 2, 3, 9)]
        for mid in ids:
            store.move_to_tier(mid, "hazy" if mid != ids[-1] else "archive")
    store.record_recalls([(ids[4], 9.0, 50.0)])  # day 3: days 1, 2, 4 and 5 are its neighbours
    assert {m.text for m in store.window.take(ids).values()} == {
        f"day {i}" for i in (1, 2, 3, 4, 5)
    }


def test_a_commit_that_reached_only_the_main_file_is_completed_at_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "store.db"
    rng = np.random.default_rng(10)
    with MemoryStore.open(path, vector_dim=DIM, embedder="fake") as store:
        with store.transaction():
            ids = [store.add(new(f"walrus {i}"), unit(rng)) for i in range(3)]
            store.move_to_tier(ids[2], "hazy")
        store.checkpoint()
    cold_file = Path(cold.cold_path(path))
    cold_before = cold_file.read_bytes()
    with monkeypatch.context() as patch:
        patch.setattr(journal, "clear", lambda conn: None)  # the process dies after commit
        with MemoryStore.open(path, vector_dim=DIM, embedder="fake") as store:
            query = store.vector(ids[0])
            with store.transaction():
                store.put_blob(Blob(ids[0], "page", "image/webp", b"rendered"))
                store.move_to_tier(ids[0], "hazy", text="walrus gist")
                store.delete([ids[2]])
            store.checkpoint()
    # ...and the cold file never got its half of that commit.
    for stale in (Path(f"{cold_file}-wal"), Path(f"{cold_file}-shm")):
        stale.unlink(missing_ok=True)
    cold_file.write_bytes(cold_before)
    with MemoryStore.open(path, vector_dim=DIM, embedder="fake") as store:
        assert not journal.pending(store.conn)
        moved = store.get(ids[0])
        assert moved is not None
        assert moved.tier == "hazy"
        assert moved.text == "walrus gist"
        assert store.blob(ids[0], "page") is not None
        assert store.vector_search(query, 1)[0][0] == ids[0]  # type: ignore[arg-type]
        assert [mid for mid, _ in store.keyword_search(["gist"], 5)] == [ids[0]]
        assert store.get(ids[2]) is None
        assert cold_count(store) == 1
        assert store.count() == 2
        assert store.integrity_check() == "ok"


def test_a_missing_or_foreign_cold_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    with MemoryStore.open(path, vector_dim=DIM, embedder="fake") as store, store.transaction():
        store.add(new("faded", "hazy"), unit(np.random.default_rng(11)))
    with MemoryStore.open(tmp_path / "other.db", vector_dim=DIM, embedder="fake"):
        pass
    cold_file = Path(cold.cold_path(path))
    saved = cold_file.read_bytes()
    cold_file.unlink()
    with pytest.raises(StorageError, match=r"cold file .* is missing or belongs to another"):
        MemoryStore.open(path, vector_dim=DIM, embedder="fake")
    assert not cold_file.exists()  # refusing does not create an empty one
    cold_file.write_bytes(Path(cold.cold_path(tmp_path / "other.db")).read_bytes())
    with pytest.raises(StorageError, match="belongs to another store"):
        MemoryStore.open(path, vector_dim=DIM, embedder="fake")
    cold_file.write_bytes(saved)
    with MemoryStore.open(path, vector_dim=DIM, embedder="fake") as store:
        assert store.count() == 1


def test_recall_keeps_hits_and_neighbours_in_the_window(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    rng = np.random.default_rng(3)
    with MemoryStore.open(path, vector_dim=DIM, embedder="fake") as store:
        with store.transaction():
            ids = [store.add(new(f"turn {i}", at=float(i)), unit(rng)) for i in range(20)]
        hit = ids[10]
        store.record_recalls([(hit, 9.0, 100.0)])
        assert len(store.window) == 5  # the hit and two either side
        before = store.window.hits
        got = store.get_many([ids[8], ids[12], hit])
        assert store.window.hits - before == 3
        assert got[hit].strength == 9.0
        assert got[hit].recall_count == 1
        assert store.get(ids[13]) is not None
        assert store.window.hits - before == 3

        # A write by another connection empties it; the next read sees the new row.
        with MemoryStore.open(path, vector_dim=DIM, embedder="fake") as other:
            other.set_pinned(hit, True)
        assert store.get(hit).pinned  # type: ignore[union-attr]
        assert store.window.hits - before == 3
        # So does a write by this one.
        store.record_recalls([(hit, 9.5, 101.0)])
        store.set_pinned(hit, False)
        assert not store.get(hit).pinned  # type: ignore[union-attr]


def test_the_window_stays_within_its_budget(tmp_path: Path) -> None:
    budget = RamBudget(1024)  # 1 MiB: a window of about 150 KiB
    rng = np.random.default_rng(4)
    with MemoryStore.open(
        tmp_path / "s.db", vector_dim=DIM, embedder="fake", budget=budget
    ) as store:
        with store.transaction():
            ids = [store.add(new(f"{i} " + "x" * 4000), unit(rng)) for i in range(200)]
        for mid in ids[::5]:
            store.record_recalls([(mid, 8.0, 10.0)])
        assert 0 < store.window.used_bytes <= budget.window_bytes
        assert len(store.window) < 200


def _store_at_005(path: Path, rng: np.random.Generator) -> dict[str, tuple[int, bytes]]:
    """A store as the code before migration 006 left it: faded vectors in per-tier tables."""
    conn = open_connection(path)
    ctx = SchemaContext(vector_dim=DIM, embedder="fake")
    conn.execute("CREATE TABLE schema_migrations (seq INTEGER PRIMARY KEY, name TEXT UNIQUE)")
    for name, step in MIGRATIONS[:5]:
        with conn:
            step(conn, ctx)
            conn.execute("INSERT INTO schema_migrations (name) VALUES (?)", (name,))
    kept = {}
    with conn:
        for i, (tier, table, wrap) in enumerate(
            (
                ("sharp", "memory_vectors", "?"),
                ("hazy", "memory_vectors_int8", "vec_int8(?)"),
                ("archive", "memory_vectors_bit", "vec_bit(?)"),
            ),
            start=1,
        ):
            vector = unit(rng)
            blob = (
                encode(vector, tier, DIM)
                if tier != "archive"
                else np.packbits(vector > 0).tobytes()
            )
            conn.execute(
                "INSERT INTO memories (id, kind, source, occurred_at, ingested_at, "
                "content_hash, text, tier, strength, vector_bytes) "
                "VALUES (?, 'text', 't', 1, 1, ?, ?, ?, 7, ?)",
                (i, f"h{i}", f"{tier} memory", tier, len(blob)),
            )
            conn.execute(f"INSERT INTO {table} (rowid, embedding) VALUES (?, {wrap})", (i, blob))
            kept[tier] = (i, blob)
        conn.execute(
            "INSERT INTO memory_blobs (memory_id, role, media_type, data) "
            "VALUES (2, 'page', 'image/webp', x'0102')"
        )
        conn.execute(
            "INSERT INTO memory_links (from_id, to_id, relation) VALUES (1, 2, 'supersedes')"
        )
    conn.close()
    return kept


def test_migration_moves_faded_vectors_into_rows_without_loss(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    kept = _store_at_005(path, np.random.default_rng(5))
    with MemoryStore.open(path, vector_dim=DIM, embedder="fake") as store:
        for tier, (mid, blob) in kept.items():
            encoded = store.encoded_vector(mid)
            assert encoded is not None, tier
            assert encoded[1] == blob, tier
        assert cold_count(store) == 2
        tables = {row[0] for row in store.conn.execute("SELECT name FROM sqlite_master")}
        assert "memory_vectors_int8" not in tables
        assert "memory_vectors_bit" not in tables
        hazy_id, _hazy_blob = kept["hazy"]
        query = store.vector(hazy_id)
        assert store.vector_search(query, 1)[0][0] == hazy_id  # type: ignore[arg-type]
        archive_id = kept["archive"][0]
        assert archive_id in {mid for mid, _ in store.vector_search(store.vector(archive_id), 3)}  # type: ignore[arg-type]
        # Migration 007: faded rows and their blobs in the cold file, links and keywords kept.
        assert [r[0] for r in store.conn.execute("SELECT id FROM cold.memories ORDER BY id")] == [
            kept["hazy"][0],
            kept["archive"][0],
        ]
        assert [r[0] for r in store.conn.execute("SELECT id FROM main.memories")] == [1]
        assert store.blob(2, "page") == Blob(2, "page", "image/webp", b"\x01\x02")
        assert scalar(store, "SELECT count(*) FROM main.memory_blobs") == 0
        assert [(link.from_id, link.to_id) for link in store.links_to(2)] == [(1, 2)]
        assert {mid for mid, _ in store.keyword_search(["memory"], 5)} == {1, 2, 3}
        assert [mid for mid, _ in store.keyword_search(["archive"], 5)] == [3]
        assert not journal.pending(store.conn)
        assert scalar(store, "SELECT count(*) FROM cold.bit_slots") == 2
        meta = dict(store.conn.execute("SELECT key, value FROM main.store_meta"))
        assert STALE_SCAN_INDEX not in meta
        assert meta["cold_file_id"] == cold.identity(store.conn)
        assert cold.is_paired(store.conn)
        assert store.integrity_check() == "ok"
        store.delete([2])  # links and blobs go with it, though no foreign key joins the files
        assert store.links_from(1) == []
        assert store.blob(2, "page") is None
    # and it is recorded: the old tables stay gone
    with (
        pytest.raises(apsw.SQLError),
        MemoryStore.open(path, vector_dim=DIM, embedder="fake") as store,
    ):
        store.conn.execute("SELECT * FROM memory_vectors_int8")


def test_bit_chunks_stay_exact_through_adds_and_removals(store: MemoryStore) -> None:
    rng = np.random.default_rng(6)
    bits = {}
    with store.transaction():
        for mid in range(1, 1201):  # more than two chunks of 512
            blob = np.packbits(rng.standard_normal(DIM) > 0).tobytes()
            cold.put(store.conn, mid, blob, DIM)
            bits[mid] = np.frombuffer(blob, dtype=np.uint8)
        for mid in rng.choice(list(bits), 300, replace=False):
            cold.drop(store.conn, int(mid))
            del bits[int(mid)]
        cold.put(store.conn, 5000, bytes(48), DIM)  # all bits clear
        bits[5000] = np.zeros(48, dtype=np.uint8)
    assert cold.count(store.conn) == len(bits) == 901
    query = np.packbits(rng.standard_normal(DIM) > 0)
    brute = sorted((int(np.unpackbits(b ^ query).sum()), mid) for mid, b in bits.items())
    found = cold.search(store.conn, query.tobytes(), 50)
    assert [d for _, d in found] == [float(d) for d, _ in brute[:50]]
    assert {mid for mid, d in found if d < brute[49][0]} == {
        mid for d, mid in brute[:50] if d < brute[49][0]
    }
    assert len(cold.search(store.conn, query.tobytes(), 5000)) == 901


def test_vacuum_rewrites_both_files_and_keeps_the_index(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    rng = np.random.default_rng(8)
    with MemoryStore.open(path, vector_dim=DIM, embedder="fake") as store:
        with store.transaction():
            ids = [store.add(new(f"f{i} " + "y" * 300, "archive"), unit(rng)) for i in range(3000)]
        keep = ids[-1]
        query = store.vector(keep)
        store.delete(ids[:-1])
        store.checkpoint()
        cold_file = Path(cold.cold_path(path))
        before = path.stat().st_size, cold_file.stat().st_size
        store.vacuum()
        after = path.stat().st_size, cold_file.stat().st_size
        assert after[0] < before[0]
        assert after[1] < before[1]
        assert store.vector_search(query, 1)[0][0] == keep  # type: ignore[arg-type]
        assert store.integrity_check() == "ok"
