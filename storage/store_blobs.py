"""The store's blobs: pages, thumbnails and media kept beside a memory, in the file of its tier."""

from __future__ import annotations

from collections.abc import Sequence

from storage.layout import COLD, SCHEMAS
from storage.records import (
    BLOB_ROLES,
    Blob,
)
from storage.store_base import StorePart


class Blobs(StorePart):
    def put_blob(self, blob: Blob) -> None:
        """Keep `blob` in the file of its memory's row."""
        if blob.role not in BLOB_ROLES:
            raise ValueError(f"unknown blob role {blob.role!r}; valid: {', '.join(BLOB_ROLES)}")
        with self.transaction():
            schema = self._home(blob.memory_id)
            self.conn.execute(
                f"INSERT OR REPLACE INTO {schema}.memory_blobs "
                "(memory_id, role, media_type, data, meta) VALUES (?, ?, ?, ?, ?)",
                (blob.memory_id, blob.role, blob.media_type, blob.data, blob.meta),
            )
            if schema == COLD:
                self._changed_cold(blob.memory_id)

    def blob(self, memory_id: int, role: str) -> Blob | None:
        for schema in SCHEMAS:
            rows = list(
                self.conn.execute(
                    f"SELECT media_type, data, meta FROM {schema}.memory_blobs "
                    "WHERE memory_id = ? AND role = ?",
                    (memory_id, role),
                )
            )
            if rows:
                media_type, data, meta = rows[0]
                return Blob(memory_id, role, str(media_type), bytes(data), str(meta))
        return None

    def blobs_of(self, memory_id: int) -> list[Blob]:
        found = (self.blob(memory_id, role) for role in BLOB_ROLES)
        return [blob for blob in found if blob is not None]

    def blob_metas(self, role: str) -> list[tuple[int, str]]:
        """(memory id, meta) of every blob in `role`, without their bytes."""
        found = [
            (int(mid), str(meta))
            for schema in SCHEMAS
            for mid, meta in self.conn.execute(
                f"SELECT memory_id, meta FROM {schema}.memory_blobs WHERE role = ?", (role,)
            )
        ]
        return sorted(found)

    def _change_blobs(self, memory_id: int, statement: str, params: Sequence[object]) -> None:
        """Run `statement` (on `{schema}.memory_blobs`) in both files."""
        with self.transaction():
            for schema in SCHEMAS:
                self.conn.execute(statement.format(schema=schema), params)
                if schema == COLD and self.conn.changes():
                    self._changed_cold(memory_id)

    def set_blob_meta(self, memory_id: int, role: str, meta: str) -> None:
        self._change_blobs(
            memory_id,
            "UPDATE {schema}.memory_blobs SET meta = ? WHERE memory_id = ? AND role = ?",
            (meta, memory_id, role),
        )

    def drop_blob(self, memory_id: int, role: str) -> None:
        self._change_blobs(
            memory_id,
            "DELETE FROM {schema}.memory_blobs WHERE memory_id = ? AND role = ?",
            (memory_id, role),
        )

    def blob_bytes(self, memory_id: int) -> int:
        return sum(
            int(
                next(
                    iter(
                        self.conn.execute(
                            f"SELECT coalesce(sum(length(data)), 0) FROM {schema}.memory_blobs "
                            "WHERE memory_id = ?",
                            (memory_id,),
                        )
                    )
                )[0]
            )
            for schema in SCHEMAS
        )
