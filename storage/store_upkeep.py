"""Keeping the files healthy and small: checkpoints, vacuum, integrity, and what the store holds."""

from __future__ import annotations

import logging
import os
from contextlib import suppress
from pathlib import Path

import apsw

from storage import cold, convert, health
from storage.cipher import Key
from storage.layout import SCHEMAS
from storage.records import (
    TIERS,
    Bucket,
    StoreStats,
)
from storage.store_base import StorePart


def store_files(path: Path) -> list[Path]:
    """A store's files on disk: main and cold, each with its WAL and shared memory."""
    bases = (str(path), cold.cold_path(path))
    return [Path(base + suffix) for base in bases for suffix in ("", "-wal", "-shm")]


def check_store_files(path: Path, key: Key | None = None) -> dict[str, list[str]]:
    """integrity_check of the store's main and cold files: {file: problems, or ["ok"]}."""
    convert.recover(path)
    return health.check_files(store_files(path)[::3], key)


log = logging.getLogger("storage.store")


class Upkeep(StorePart):
    def checkpoint(self) -> None:
        """Fold the WALs into their files and truncate them, so deleted pages leave them.

        A statement still open on this connection (a view of the terminal UI reading a page
        at a time) makes SQLite refuse to truncate; then the WAL is folded in as far as it
        can be and truncated at the next checkpoint or when the store closes."""
        try:
            list(self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)"))
        except (apsw.LockedError, apsw.BusyError) as exc:
            log.warning("the WAL could not be truncated now (%s); it will be on close", exc)
            with suppress(apsw.LockedError, apsw.BusyError):
                list(self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)"))

    def vacuum(self) -> None:
        """Rewrite both files without free pages. Under WAL a file only shrinks when the
        rewritten pages are checkpointed back, hence a checkpoint on either side."""
        self.checkpoint()
        self.conn.execute("VACUUM main")
        self.conn.execute(f"VACUUM {cold.SCHEMA}")
        self.checkpoint()

    def stats(self) -> StoreStats:
        """Counts and bytes (UTF-8 text, vector and blob bytes) per tier and per kind."""
        tiers = {tier: Bucket() for tier in TIERS}
        kinds: dict[str, Bucket] = {}
        for schema in SCHEMAS:
            size = (
                "length(CAST(text AS BLOB)) + vector_bytes + (SELECT coalesce(sum(length(data)), "
                f"0) FROM {schema}.memory_blobs b WHERE b.memory_id = m.id)"
            )
            for column, buckets in (("tier", tiers), ("kind", kinds)):
                for name, count, nbytes in self.conn.execute(
                    f"SELECT {column}, count(*), coalesce(sum({size}), 0) "
                    f"FROM {schema}.memories m GROUP BY {column}"
                ):
                    before = buckets.get(str(name), Bucket())
                    buckets[str(name)] = Bucket(
                        before.count + int(count), before.bytes + int(nbytes)
                    )
        return StoreStats(
            memories=sum(b.count for b in tiers.values()),
            bytes=sum(b.bytes for b in tiers.values()),
            file_bytes=self._file_bytes(),
            tiers=tiers,
            kinds=dict(sorted(kinds.items())),
        )

    def _file_bytes(self) -> int:
        if self.path is None:
            return 0
        return sum(os.path.getsize(f) for f in store_files(self.path) if f.exists())

    def integrity_check(self) -> str:
        return str(next(iter(self.conn.execute("PRAGMA integrity_check")))[0])
