"""On-device model runtimes behind small Protocols. Runtimes are imported lazily, on first use."""

from models.embedder import Embedder, embedder_dim, embedder_names, load_embedder
from models.errors import ChecksumError, MissingModelError, MissingRuntimeError, ModelError

__all__ = [
    "ChecksumError",
    "Embedder",
    "MissingModelError",
    "MissingRuntimeError",
    "ModelError",
    "embedder_dim",
    "embedder_names",
    "load_embedder",
]
