"""Vector encodings by tier, and where each one lives.

- sharp: float32 in the `memory_vectors` vec0 table of the main file, searched exactly.
- hazy: int8 (scaled so the largest component is 127; keeps cosine to about 0.01) in the
  memory's own row (`memories.cold_vector`), beside its text and metadata, for re-ranking;
  and the vector's sign bits in the cold file (storage/cold.py), the small index a query
  scans. The bits can always be rebuilt from the row.
- archive: the sign bits alone, in the row and in the index (a 384-d vector: 48 bytes, not
  384), scored by their angle estimate (cos(pi * hamming / dim), random-hyperplane hashing).
  By the archive a memory is found mostly by its words; its vector only has to point near.
  Rows archived with an int8 vector keep it.
"""

from __future__ import annotations

import math

import numpy as np

from storage.errors import StorageError

SHARP_TABLE = "memory_vectors"
COLD_TIERS = ("hazy", "archive")
# The encodings a tier's vector may be stored in; the first is what new vectors get.
ACCEPTED = {"sharp": ("float32",), "hazy": ("int8",), "archive": ("bit", "int8")}


def size(encoding: str, dim: int) -> int:
    return {"float32": 4 * dim, "int8": dim, "bit": (dim + 7) // 8}[encoding]


def encoding_of(blob: bytes, dim: int) -> str:
    for encoding in ("float32", "int8", "bit"):
        if len(blob) == size(encoding, dim):
            return encoding
    raise StorageError(f"a stored vector of {len(blob)} bytes fits no {dim}-d encoding.")


def _array(vector: np.ndarray, dim: int) -> np.ndarray:
    array = np.ascontiguousarray(vector, dtype=np.float32).reshape(-1)
    if array.shape[0] != dim:
        raise StorageError(
            f"a vector of {array.shape[0]} dimensions does not fit this store's {dim}."
        )
    return array


def encode(vector: np.ndarray, tier: str, dim: int) -> bytes:
    """The vector in the encoding `tier` stores (float32 sharp, int8 hazy, bits archived)."""
    array = _array(vector, dim)
    if ACCEPTED[tier][0] == "float32":
        return array.tobytes()
    if ACCEPTED[tier][0] == "bit":
        return np.packbits(array > 0).tobytes()
    peak = float(np.max(np.abs(array))) or 1.0
    return np.round(array * (127.0 / peak)).astype(np.int8).tobytes()


def sign_bits(blob: bytes, dim: int) -> bytes:
    """The cold index's entry for a stored vector in any encoding."""
    encoding = encoding_of(blob, dim)
    if encoding == "bit":
        return blob
    values: np.ndarray = np.frombuffer(blob, dtype=np.float32 if encoding == "float32" else np.int8)
    return np.packbits(values > 0).tobytes()


def query_bits(vector: np.ndarray, dim: int) -> bytes:
    return np.packbits(_array(vector, dim) > 0).tobytes()


def decode(blob: bytes, dim: int) -> np.ndarray:
    """A unit float32 vector back from any encoding (the lighter ones approximately)."""
    encoding = encoding_of(blob, dim)
    if encoding == "float32":
        array = np.frombuffer(blob, dtype=np.float32).astype(np.float32)
    elif encoding == "int8":
        array = np.frombuffer(blob, dtype=np.int8).astype(np.float32)
    else:
        bits = np.unpackbits(np.frombuffer(blob, dtype=np.uint8))[:dim]
        array = np.where(bits > 0, 1.0, -1.0).astype(np.float32)
    norm = float(np.linalg.norm(array))
    return array / norm if norm else array


def cosine(query: np.ndarray, blob: bytes, dim: int) -> float:
    """Cosine of a unit float query with a stored vector. Bits are scored by their angle
    estimate, since a sign vector's own cosine with the query understates it."""
    return unit_cosine(
        _array(query, dim), decode(blob, dim), signs_only=encoding_of(blob, dim) == "bit"
    )


def unit_cosine(first: np.ndarray, second: np.ndarray, *, signs_only: bool) -> float:
    """Cosine of two unit vectors (`decode`'s); where one is known only by its signs, the
    angle estimate of the two sign vectors, as a search over the bits scores it."""
    if signs_only:
        return bit_similarity(float(((first > 0) != (second > 0)).sum()), first.shape[0])
    return float(first @ second)


def bit_similarity(hamming: float, dim: int) -> float:
    """Estimated cosine from the Hamming distance of two sign vectors."""
    return math.cos(math.pi * hamming / dim)


def cosines(
    query: np.ndarray, stored: list[tuple[int, bytes]], dim: int
) -> list[tuple[int, float]]:
    """(id, cosine with the query) for many stored vectors; the int8 ones in one product."""
    q = _array(query, dim)
    int8 = [(mid, blob) for mid, blob in stored if len(blob) == dim]
    scored = [(mid, cosine(q, blob, dim)) for mid, blob in stored if len(blob) != dim]
    if int8:
        matrix = np.frombuffer(b"".join(blob for _, blob in int8), dtype=np.int8)
        matrix = matrix.reshape(len(int8), dim).astype(np.float32)
        norms = np.linalg.norm(matrix, axis=1)
        sims = (matrix @ q) / np.where(norms > 0, norms, 1.0)
        scored += [(mid, float(sim)) for (mid, _), sim in zip(int8, sims, strict=True)]
    return scored
