"""Tier encodings and blobs in real SQLite with sqlite-vec."""

from __future__ import annotations

import numpy as np
import pytest

from storage import Blob, MemoryStore, NewMemory
from storage.vectors import bit_similarity, cosine, decode, encode, sign_bits


def new(text: str, tier: str = "sharp", at: float = 1.0, source: str = "t") -> NewMemory:
    return NewMemory(
        kind="text",
        source=source,
        occurred_at=at,
        ingested_at=at,
        content_hash=f"h:{text}",
        text=text,
        strength=7.0,
        tier=tier,
    )


def random_unit(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).standard_normal(384).astype(np.float32)
    return vector / np.linalg.norm(vector)


def test_encodings_shrink_and_keep_cosine_roughly() -> None:
    a, b = random_unit(1), random_unit(2)
    b = (a + 0.8 * b) / np.linalg.norm(a + 0.8 * b)
    exact = float(a @ b)
    assert len(encode(a, "sharp", 384)) == 1536
    assert len(encode(a, "hazy", 384)) == 384
    assert len(encode(a, "archive", 384)) == 48  # the sign bits alone
    assert sign_bits(encode(a, "archive", 384), 384) == encode(a, "archive", 384)
    int8 = float(decode(encode(a, "hazy", 384), 384) @ decode(encode(b, "hazy", 384), 384))
    assert int8 == pytest.approx(exact, abs=0.01)
    assert cosine(a, encode(b, "hazy", 384), 384) == pytest.approx(exact, abs=0.01)
    bits_a = np.unpackbits(np.frombuffer(sign_bits(encode(a, "sharp", 384), 384), np.uint8))
    bits_b = np.unpackbits(np.frombuffer(sign_bits(encode(b, "sharp", 384), 384), np.uint8))
    estimate = bit_similarity(float((bits_a != bits_b).sum()), 384)
    assert estimate == pytest.approx(exact, abs=0.15)
    # An archived vector (bits alone) is scored by the same estimate.
    assert cosine(a, encode(b, "archive", 384), 384) == pytest.approx(estimate, abs=1e-6)
    assert bit_similarity(0.0, 384) == 1.0
    assert bit_similarity(384.0, 384) == pytest.approx(-1.0)


def test_move_to_tier_reencodes_the_vector_and_replaces_the_text(store: MemoryStore) -> None:
    vector = random_unit(3)
    with store.transaction():
        mid = store.add(new("the verbatim walrus text"), vector)
    assert store.encoded_vector(mid)[0] == "float32"  # type: ignore[index]
    with store.transaction():
        store.move_to_tier(mid, "hazy", text="walrus gist")
    memory = store.get(mid)
    assert memory is not None
    assert memory.tier == "hazy"
    assert memory.vector_bytes == 384 + 48
    assert memory.text == "walrus gist"
    assert store.keyword_search(["verbatim"], 5) == []  # the dropped text left the index
    assert store.keyword_search(["gist"], 5)[0][0] == mid
    assert float(store.vector(mid) @ vector) > 0.99
    with store.transaction():
        store.move_to_tier(mid, "archive")
    memory = store.get(mid)
    assert memory is not None
    assert memory.tier == "archive"
    assert memory.vector_bytes == 48 + 48
    # Signs alone: about 0.8 for a random vector (2/pi's square root), enough to point near.
    assert float(store.vector(mid) @ vector) > 0.7


def test_staying_in_its_tier_a_memory_keeps_its_vector_and_changes_its_text(
    store: MemoryStore,
) -> None:
    with store.transaction():
        mid = store.add(new("the verbatim walrus text. It swam.", "hazy"), random_unit(4))
    stored = store.encoded_vector(mid)
    store.conn.execute(
        "UPDATE cold.memories SET cold_vector = ? WHERE id = ?", (b"\x01" * 384, mid)
    )
    with store.transaction():
        store.move_to_tier(mid, "hazy", text="the verbatim walrus text.")
    # Not decoded and encoded again: the bytes stored are the bytes kept.
    assert store.encoded_vector(mid) == ("int8", b"\x01" * 384)
    assert stored != store.encoded_vector(mid)
    memory = store.get(mid)
    assert memory is not None
    assert memory.tier == "hazy"
    assert memory.text == "the verbatim walrus text."
    assert store.keyword_search(["swam"], 5) == []
    assert store.keyword_search(["walrus"], 5)[0][0] == mid


def test_vector_search_covers_every_tier(store: MemoryStore) -> None:
    query = random_unit(10)
    near = (query + 0.3 * random_unit(11)) / np.linalg.norm(query + 0.3 * random_unit(11))
    with store.transaction():
        ids = {
            tier: store.add(new(f"m {tier}", tier), near) for tier in ("sharp", "hazy", "archive")
        }
        far = store.add(new("far"), random_unit(12))
    hits = dict(store.vector_search(query, 10))
    assert set(ids.values()) | {far} == set(hits)
    assert all(hits[i] > hits[far] for i in ids.values())
    only_sharp = store.vector_search(query, 10, tiers=("sharp",))
    assert {mid for mid, _ in only_sharp} == {ids["sharp"], far}


def test_blobs_count_in_stats_and_go_with_their_memory(store: MemoryStore) -> None:
    with store.transaction():
        mid = store.add(new("paged"), random_unit(4))
        store.put_blob(Blob(mid, "page", "image/png", b"\x89PNG" + b"x" * 996, '{"boxes": []}'))
    assert store.blob(mid, "page").data.startswith(b"\x89PNG")  # type: ignore[union-attr]
    assert store.stats().bytes == len("paged") + 1536 + 1000
    with pytest.raises(ValueError, match="valid"):
        store.put_blob(Blob(mid, "poster", "image/png", b""))
    store.delete([mid])
    assert store.blob(mid, "page") is None
    assert list(store.conn.execute("SELECT count(*) FROM memory_blobs")) == [(0,)]
    assert list(store.conn.execute("SELECT count(*) FROM memory_vectors")) == [(0,)]


def test_following_gives_what_came_next_from_the_same_source_in_any_file(
    store: MemoryStore,
) -> None:
    def at(when: float, text: str, source: str = "chat-ana", tier: str = "sharp") -> int:
        with store.transaction():
            return store.add(new(text, tier, when, source), random_unit(int(when)))

    hit = at(100.0, "how did the race go?")
    at(130.0, "another chat at the same time", source="chat-ben")
    reply = at(160.0, "third place, 41 minutes", tier="archive")  # in the cold file
    next_one = at(200.0, "and a medal")
    at(200.0 + 3 * 3600, "hours later: another episode")
    at(50.0, "before the hit")
    hit_memory = store.get(hit)
    assert hit_memory is not None
    assert [m.id for m in store.following(hit_memory, 5, 3600.0)] == [reply, next_one]
    assert [m.id for m in store.following(hit_memory, 1, 3600.0)] == [reply]
    assert store.following(hit_memory, 5, 30.0) == []  # the reply came a minute later


def test_adjacent_gives_the_lines_before_and_after_from_the_same_source_in_any_file(
    store: MemoryStore,
) -> None:
    def at(when: float, text: str, source: str = "chat-ana", tier: str = "sharp") -> int:
        with store.transaction():
            return store.add(new(text, tier, when, source), random_unit(int(when)))

    asked = at(100.0, "how did the race go?", tier="archive")  # in the cold file
    at(130.0, "another chat at the same time", source="chat-ben")
    reply = at(160.0, "third place, 41 minutes")
    same_time = at(160.0, "and a medal")
    later = at(160.0 + 3 * 3600, "hours later: another episode")
    ids = [asked, reply, same_time, later]
    assert store.adjacent(ids, ["text"], 3600.0) == {
        asked: (None, reply),
        reply: (asked, same_time),  # the same second: the order they were stored in
        same_time: (reply, None),
        later: (None, None),  # another episode
    }
    assert store.adjacent([reply], ["text"], 30.0) == {reply: (None, same_time)}
    assert store.adjacent([reply], ["audio"], 3600.0) == {reply: (None, None)}
    assert store.adjacent([], ["text"], 3600.0) == {}
    many = store.adjacent([reply, *range(10_000, 10_600)], ["text"], 3600.0)  # past one chunk
    assert many == {reply: (asked, same_time)}  # ids the store lacks are left out


def test_encoded_vectors_reads_many_from_both_files_as_encoded_vector_does(
    store: MemoryStore,
) -> None:
    ids = []
    for seed, tier in enumerate(["sharp", "hazy", "archive", "sharp"]):
        with store.transaction():
            ids.append(store.add(new(f"memory {seed}", tier, float(seed)), random_unit(seed)))
    with store.transaction():
        no_vector = store.add(new("a title row"), None)
    found = store.encoded_vectors([*ids, no_vector, ids[0]])
    assert sorted(found) == sorted(ids)
    for memory_id in ids:
        one = store.encoded_vector(memory_id)
        assert one is not None
        assert found[memory_id] == one[1]
    assert {len(blob) for blob in found.values()} == {384 * 4, 384, 384 // 8}  # each tier's own
