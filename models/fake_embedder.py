"""A deterministic embedder for logic tests: hashed bag of words, no model, no runtime.

Texts that share words get similar vectors, so ranking logic can be tested; it says nothing
about meaning and must never stand in for a claim that real embedding works.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

_WORD = re.compile(r"\w+")


class FakeEmbedder:
    name = "fake"
    dim = 384

    def __init__(self, dim: int = 384) -> None:
        self.dim = dim

    @classmethod
    def load(cls) -> FakeEmbedder:
        return cls()

    def _bucket(self, word: str) -> tuple[int, float]:
        digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
        value = int.from_bytes(digest, "little")
        return value % self.dim, 1.0 if (value >> 32) & 1 else -1.0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                index, sign = self._bucket(word)
                out[row, index] += sign
            norm = float(np.linalg.norm(out[row]))
            if norm == 0.0:
                out[row, 0] = 1.0  # an empty text still gets a valid unit vector
            else:
                out[row] /= norm
        return out
