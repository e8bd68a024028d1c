"""The ingest queue: requests written down before they are acknowledged.

The daemon puts each request here (its own connection, committed) before it answers, and
takes it off in the same transaction that stores its memory, so a killed daemon resumes
where it stopped and nothing acknowledged is lost. Content hashes make a replay harmless.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import apsw

from storage.cipher import Key
from storage.connection import open_connection


@dataclass(frozen=True)
class QueuedItem:
    id: int
    kind: str  # note | path
    payload: dict[str, Any]
    received_at: float


class IngestQueue:
    def __init__(self, conn: apsw.Connection) -> None:
        self.conn = conn

    @classmethod
    def open(cls, path: Path | str, key: Key | None = None) -> IngestQueue:
        """A queue on its own connection to the store file (the store creates the table),
        keyed like the store: queued requests are encrypted with it."""
        return cls(open_connection(path, cache_kib=1024, key=key))

    def close(self) -> None:
        self.conn.close()

    def put(self, items: list[tuple[str, dict[str, Any]]], received_at: float) -> list[int]:
        """Write requests down for good; returns their queue ids."""
        ids = []
        with self.conn:
            for kind, payload in items:
                cursor = self.conn.execute(
                    "INSERT INTO ingest_queue (kind, payload, received_at) VALUES (?, ?, ?) "
                    "RETURNING id",
                    (kind, json.dumps(payload), received_at),
                )
                ids.append(cast(int, cursor.fetchall()[0][0]))
        return ids

    def pending(self, limit: int = 256) -> list[QueuedItem]:
        rows = self.conn.execute(
            "SELECT id, kind, payload, received_at FROM ingest_queue ORDER BY id LIMIT ?", (limit,)
        )
        return [QueuedItem(int(i), str(k), json.loads(str(p)), float(t)) for i, k, p, t in rows]

    def queued(self, ids: list[int]) -> set[int]:
        """Which of `ids` are still in the queue."""
        if not ids:
            return set()
        marks = ",".join("?" * len(ids))
        rows = self.conn.execute(f"SELECT id FROM ingest_queue WHERE id IN ({marks})", ids)
        return {int(row[0]) for row in rows}

    def count(self) -> int:
        return int(next(iter(self.conn.execute("SELECT count(*) FROM ingest_queue")))[0])


def take(conn: apsw.Connection, queue_id: int) -> None:
    """Remove an item; call inside the transaction that stored what it asked for."""
    conn.execute("DELETE FROM ingest_queue WHERE id = ?", (queue_id,))
