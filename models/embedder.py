"""The Embedder protocol and the registry that loads embedders by name."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from models.errors import UnknownModelError
from models.names import closest_hint


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


def embed_query(embedder: Embedder, text: str) -> np.ndarray:
    """`text` as something searched with: an embedder trained with a query side
    (`embed_queries`, e5's "query: ") reads it so; any other, as it reads stored text."""
    queries = getattr(embedder, "embed_queries", None)
    if queries is None:
        return embed_one(embedder, text)
    return np.asarray(queries([text])[0], dtype=np.float32)


def similarity_defaults(name: str) -> Mapping[str, float]:
    """The cosine thresholds the embedder `name` sets apart from the defaults (measured for
    MiniLM), without loading it: {} for one that keeps them."""
    return dict(getattr(_known(name), "similarity_defaults", {}))


def _registry() -> dict[str, Any]:
    # Importing these modules loads no runtime; onnxruntime is imported inside MiniLM's load.
    from models.e5 import E5Embedder
    from models.fake_embedder import FakeEmbedder
    from models.minilm import MiniLMEmbedder

    return {"minilm": MiniLMEmbedder, "e5-small": E5Embedder, "fake": FakeEmbedder}


def embedder_names() -> list[str]:
    return sorted(_registry())


def _known(name: str) -> Any:
    registry = _registry()
    if name not in registry:
        raise UnknownModelError(
            f"there is no embedder called {name!r}; valid: {', '.join(embedder_names())}."
            + closest_hint(name, registry)
        )
    return registry[name]


def embedder_dim(name: str) -> int:
    """The vector size of the embedder `name`, without loading it."""
    return int(_known(name).dim)


def load_embedder(name: str) -> Embedder:
    """Load the embedder registered under `name`; unknown names get the closest valid one."""
    embedder: Embedder = _known(name).load()
    return embedder
