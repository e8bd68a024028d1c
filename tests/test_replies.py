"""A said line read with the line it answers (agent/answer/replies.py), on a real store, in
each tier's vector encoding."""

from __future__ import annotations

import numpy as np
import pytest

from agent.answer.replies import with_answered_lines
from storage import MemoryStore, NewMemory
from storage.vectors import cosine


def unit(vector: np.ndarray) -> np.ndarray:
    return (vector / np.linalg.norm(vector)).astype(np.float32)


def line(store: MemoryStore, text: str, at: float, tier: str, vector: np.ndarray) -> int:
    memory = NewMemory("text", f"chat-{tier}", at, at, f"{tier}:{text}", text, 7.0, tier=tier)
    with store.transaction():
        memory_id = store.add(memory, vector)
        store.set_speaker(memory_id, text.split(":")[0])
    return memory_id


@pytest.mark.parametrize("tier", ["sharp", "hazy", "archive"])
def test_a_reply_reads_as_close_as_the_mean_of_it_and_what_it_answers(
    store: MemoryStore, tier: str
) -> None:
    rng = np.random.default_rng(7)
    asked_vector, reply_vector = unit(rng.normal(size=384)), unit(rng.normal(size=384))
    query = unit(asked_vector + reply_vector)  # halfway between the two lines
    line(store, "Bo: did you go camping?", 100.0, tier, asked_vector)
    reply = line(store, "Anna: yes, rain all night", 160.0, tier, reply_vector)
    blob = store.encoded_vector(reply)
    assert blob is not None
    alone = cosine(query, blob[1], 384)  # as the vector search scores the reply
    assert alone < 0.8
    found = with_answered_lines(store, query, {reply: alone}, 3600.0, 10)
    assert found[reply] == pytest.approx(1.0, abs=0.08)  # bits are estimated, not exact


def test_a_line_said_in_another_episode_is_read_alone(store: MemoryStore) -> None:
    rng = np.random.default_rng(8)
    asked_vector, reply_vector = unit(rng.normal(size=384)), unit(rng.normal(size=384))
    query = unit(asked_vector + reply_vector)
    line(store, "Bo: did you go camping?", 100.0, "sharp", asked_vector)
    reply = line(store, "Anna: yes, rain all night", 100.0 + 7200, "sharp", reply_vector)
    alone = float(query @ reply_vector)
    assert with_answered_lines(store, query, {reply: alone}, 3600.0, 10) == {
        reply: pytest.approx(alone)
    }
