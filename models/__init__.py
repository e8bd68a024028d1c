"""On-device model runtimes behind small Protocols. Runtimes are imported lazily, on first use."""

from models.offline import stay_offline

stay_offline()  # before any runtime can be imported: see models/offline.py

# ruff: noqa: E402 (the switches above must come first)

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
