"""Vector encodings by tier: float32 (sharp), int8 (hazy), one bit a dimension (archive).

Each tier has its own vec0 table. Similarities from the lighter encodings estimate cosine:
int8 keeps cosine almost exactly (scaled so the largest component is 127); for sign bits the
angle between two vectors is about pi * hamming / dim (random-hyperplane hashing), so the
estimate is cos(pi * hamming / dim).
"""

from __future__ import annotations

import math

import numpy as np

from storage.errors import StorageError

TABLES = {"sharp": "memory_vectors", "hazy": "memory_vectors_int8", "archive": "memory_vectors_bit"}
ENCODINGS = {"sharp": "float32", "hazy": "int8", "archive": "bit"}
_SQL_WRAP = {"float32": "?", "int8": "vec_int8(?)", "bit": "vec_bit(?)"}


def sql_value(tier: str) -> str:
    """The SQL that turns a bound blob into this tier's vector type."""
    return _SQL_WRAP[ENCODINGS[tier]]


def encode(vector: np.ndarray, tier: str, dim: int) -> bytes:
    array = np.ascontiguousarray(vector, dtype=np.float32).reshape(-1)
    if array.shape[0] != dim:
        raise StorageError(
            f"a vector of {array.shape[0]} dimensions does not fit this store's {dim}."
        )
    encoding = ENCODINGS[tier]
    if encoding == "float32":
        return array.tobytes()
    if encoding == "int8":
        peak = float(np.max(np.abs(array))) or 1.0
        return np.round(array * (127.0 / peak)).astype(np.int8).tobytes()
    return np.packbits(array > 0).tobytes()


def decode(blob: bytes, tier: str, dim: int) -> np.ndarray:
    """A unit float32 vector back from any encoding (the lighter ones approximately)."""
    encoding = ENCODINGS[tier]
    if encoding == "float32":
        array = np.frombuffer(blob, dtype=np.float32).astype(np.float32)
    elif encoding == "int8":
        array = np.frombuffer(blob, dtype=np.int8).astype(np.float32)
    else:
        bits = np.unpackbits(np.frombuffer(blob, dtype=np.uint8))[:dim]
        array = np.where(bits > 0, 1.0, -1.0).astype(np.float32)
    norm = float(np.linalg.norm(array))
    return array / norm if norm else array


def similarity(distance: float, tier: str, dim: int) -> float:
    """sqlite-vec's distance for this tier's table turned into an estimated cosine."""
    if ENCODINGS[tier] == "bit":
        return math.cos(math.pi * distance / dim)
    return 1.0 - distance
