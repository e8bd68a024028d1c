"""Each memory's vector, stored in its tier's encoding (storage/vectors.py), and the nearest-vector
search.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from storage import cold, search, vectors
from storage.errors import StorageError
from storage.records import (
    TIERS,
)
from storage.store_base import StorePart


class VectorColumns(StorePart):
    def _insert_vector(self, memory_id: int, tier: str, blob: bytes) -> None:
        if tier == "sharp":
            self.conn.execute(
                f"INSERT INTO {vectors.SHARP_TABLE} (rowid, embedding) VALUES (?, ?)",
                (memory_id, blob),
            )
            return
        self._update("cold_vector = ?", (blob,), memory_id)
        cold.put(self.conn, memory_id, blob, self.vector_dim)

    def _delete_vectors(self, memory_id: int) -> None:
        self.conn.execute(f"DELETE FROM {vectors.SHARP_TABLE} WHERE rowid = ?", (memory_id,))
        self.conn.execute(
            "UPDATE cold.memories SET cold_vector = NULL WHERE id = ? AND cold_vector IS NOT NULL",
            (memory_id,),
        )
        if self.conn.changes() | cold.drop(self.conn, memory_id):
            self._changed_cold(memory_id)

    def _vector_size(self, tier: str, blob: bytes) -> int:
        """Bytes a stored vector costs: a faded one also has its sign bits in the cold index."""
        if tier == "sharp":
            return len(blob)
        return len(blob) + vectors.size("bit", self.vector_dim)

    def vector(self, memory_id: int) -> np.ndarray | None:
        """The memory's vector as unit float32, decoded from however its tier keeps it."""
        encoded = self.encoded_vector(memory_id)
        return None if encoded is None else vectors.decode(encoded[1], self.vector_dim)

    def encoded_vectors(self, memory_ids: Sequence[int]) -> dict[int, bytes]:
        """The stored bytes of many memories' vectors at once, in their tiers' encodings
        (`encoded_vector`); those without a vector are left out."""
        wanted = list(dict.fromkeys(memory_ids))
        found: dict[int, bytes] = {}
        for start in range(0, len(wanted), 500):  # under SQLite's bound-parameter limit
            part = wanted[start : start + 500]
            marks = ", ".join("?" * len(part))
            for query in (
                f"SELECT rowid, embedding FROM {vectors.SHARP_TABLE} WHERE rowid IN ({marks})",
                f"SELECT id, cold_vector FROM cold.memories WHERE id IN ({marks}) "
                "AND cold_vector IS NOT NULL",
            ):
                for memory_id, blob in self.conn.execute(query, part):
                    found.setdefault(memory_id, bytes(blob))
        return found

    def encoded_vector(self, memory_id: int) -> tuple[str, bytes] | None:
        """(encoding, stored bytes) of the memory's vector: float32, int8 or bit."""
        blob = self.encoded_vectors([memory_id]).get(memory_id)
        return None if blob is None else (vectors.encoding_of(blob, self.vector_dim), blob)

    def put_encoded_vector(self, memory_id: int, tier: str, blob: bytes) -> None:
        """Store a vector already encoded as `tier` keeps it (import keeps it byte for byte)."""
        if vectors.encoding_of(blob, self.vector_dim) not in vectors.ACCEPTED[tier]:
            raise StorageError(f"a {tier} memory cannot hold a vector of {len(blob)} bytes.")
        with self.transaction():
            self._delete_vectors(memory_id)
            self._insert_vector(memory_id, tier, blob)
            self._update("vector_bytes = ?", (self._vector_size(tier, blob),), memory_id)

    def vector_search(
        self, query: np.ndarray, limit: int, tiers: Sequence[str] = TIERS
    ) -> list[tuple[int, float]]:
        """Nearest memories over `tiers`, each searched in its own encoding, with estimated
        cosine similarity, best first."""
        self._cold_access.refresh()
        try:
            return search.vector_search(self.conn, query, limit, tiers, self.vector_dim)
        finally:
            self._cold_access.refresh()  # a first mapping, made by this search
