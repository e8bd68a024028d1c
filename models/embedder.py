"""The Embedder protocol and the registry that loads embedders by name."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from models.errors import UnknownModelError


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit-length float32 vectors of `dim` dimensions."""

    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """A (len(texts), dim) float32 array, each row L2-normalised."""
        ...


def embed_one(embedder: Embedder, text: str) -> np.ndarray:
    return np.asarray(embedder.embed([text])[0], dtype=np.float32)


def _minilm() -> Embedder:
    from models.minilm import MiniLMEmbedder

    return MiniLMEmbedder.from_installed_packages()


def _fake() -> Embedder:
    from models.fake_embedder import FakeEmbedder

    return FakeEmbedder()


_REGISTRY: dict[str, Callable[[], Embedder]] = {"minilm": _minilm, "fake": _fake}
# Vector sizes, known without loading a model, so a store can be opened cheaply.
_DIMS: dict[str, int] = {"minilm": 384, "fake": 384}


def embedder_names() -> list[str]:
    return sorted(_REGISTRY)


def _known(name: str) -> str:
    if name not in _REGISTRY:
        close = difflib.get_close_matches(name, _REGISTRY, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise UnknownModelError(
            f"there is no embedder called {name!r}; valid: {', '.join(embedder_names())}.{hint}"
        )
    return name


def embedder_dim(name: str) -> int:
    """The vector size of the embedder `name`, without loading it."""
    return _DIMS[_known(name)]


def load_embedder(name: str) -> Embedder:
    """Load the embedder registered under `name`; unknown names get the closest valid one."""
    return _REGISTRY[_known(name)]()
