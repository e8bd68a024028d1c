"""Bringing a store's schema up to date: every migration of storage/migrations.py not yet
recorded, each in its own transaction, then a check that its vectors are the embedder's."""

from __future__ import annotations

import apsw

from storage.errors import StorageError, StoreMismatchError
from storage.migrations import MIGRATIONS, SchemaContext


def applied_migrations(conn: apsw.Connection) -> list[str]:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (seq INTEGER PRIMARY KEY, name TEXT UNIQUE)"
    )
    return [row[0] for row in conn.execute("SELECT name FROM schema_migrations ORDER BY seq")]


def migrate(conn: apsw.Connection, ctx: SchemaContext) -> list[str]:
    """Apply every migration not yet recorded, each in its own transaction; return their names."""
    done = set(applied_migrations(conn))
    ran = []
    # Tables are rebuilt by copy, drop and rename; with foreign keys on, dropping the old
    # table would cascade into its children. They are checked once all steps are in.
    list(conn.execute("PRAGMA foreign_keys=OFF"))
    try:
        for name, step in MIGRATIONS:
            if name in done:
                continue
            with conn:
                step(conn, ctx)
                conn.execute("INSERT INTO schema_migrations (name) VALUES (?)", (name,))
            ran.append(name)
    finally:
        list(conn.execute("PRAGMA foreign_keys=ON"))
    if ran and list(conn.execute("PRAGMA foreign_key_check")):
        raise StorageError("after migrating, some blobs point at memories the store lacks.")
    _check_vectors_match(conn, ctx)
    return ran


def _check_vectors_match(conn: apsw.Connection, ctx: SchemaContext) -> None:
    meta = dict(conn.execute("SELECT key, value FROM store_meta"))
    if int(meta["vector_dim"]) != ctx.vector_dim or meta["embedder"] != ctx.embedder:
        raise StoreMismatchError(
            f"this store holds {meta['vector_dim']}-d vectors from the {meta['embedder']!r} "
            f"embedder, not {ctx.vector_dim}-d from {ctx.embedder!r}: choose embedder = "
            f"{meta['embedder']!r} in the settings, or export and import into a new home."
        )
