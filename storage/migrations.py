"""Schema as small named migrations, applied in order and recorded in schema_migrations."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import apsw


@dataclass(frozen=True)
class SchemaContext:
    """What a migration may need to know about the caller's vectors."""

    vector_dim: int
    embedder: str


# store_meta key set by a migration whose faded rows the cold file's scan index does not yet
# cover: the store rebuilds the index at open, with the code of its day.
STALE_SCAN_INDEX = "cold_index_stale"

# The layout as migration 007 made it, frozen: later changes to storage/layout.py and
# storage/journal.py must not change what an old store's upgrade does.
_STORED_007 = (
    "id, kind, source, occurred_at, ingested_at, content_hash, text, tier, importance, "
    "strength, last_recalled_at, recall_count, pinned, vector_bytes, cold_vector"
)
_SHARP_MEMORIES_007 = """
    CREATE TABLE main.memories (
        id INTEGER NOT NULL,
        kind TEXT NOT NULL,
        source TEXT NOT NULL,
        occurred_at REAL NOT NULL,
        ingested_at REAL NOT NULL,
        content_hash TEXT NOT NULL UNIQUE,
        text TEXT NOT NULL,
        tier TEXT NOT NULL CHECK (tier IN ('sharp')),
        importance REAL NOT NULL DEFAULT 0.5 CHECK (importance BETWEEN 0 AND 1),
        strength REAL NOT NULL CHECK (strength > 0),
        last_recalled_at REAL,
        recall_count INTEGER NOT NULL DEFAULT 0,
        pinned INTEGER NOT NULL DEFAULT 0,
        vector_bytes INTEGER NOT NULL DEFAULT 0,
        cold_vector BLOB,
        PRIMARY KEY (occurred_at, id)
    ) WITHOUT ROWID
"""


def _create_journal_007(conn: apsw.Connection) -> None:
    columns = _STORED_007.removeprefix("id, ")
    conn.execute(
        f"CREATE TABLE main.cold_journal (id INTEGER PRIMARY KEY, present INTEGER NOT NULL, "
        f"{columns})"
    )
    conn.execute(
        "CREATE TABLE main.cold_journal_blobs (memory_id INTEGER NOT NULL, role TEXT NOT NULL, "
        "media_type TEXT NOT NULL, data BLOB NOT NULL, meta TEXT NOT NULL, "
        "PRIMARY KEY (memory_id, role))"
    )


def _journal_007(conn: apsw.Connection, ids: list[int]) -> None:
    """The journal entries of these cold rows, as the 007 journal holds them (see
    storage/journal.py for why every cold change is journalled)."""
    ids = sorted(set(ids))
    for start in range(0, len(ids), 500):
        batch = ids[start : start + 500]
        marks = ",".join("?" * len(batch))
        conn.execute(f"DELETE FROM main.cold_journal_blobs WHERE memory_id IN ({marks})", batch)
        conn.execute(
            "INSERT OR REPLACE INTO main.cold_journal (id, present) VALUES "
            + ",".join("(?, 0)" for _ in batch),
            batch,
        )
        conn.execute(
            f"INSERT OR REPLACE INTO main.cold_journal (present, {_STORED_007}) "
            f"SELECT 1, {_STORED_007} FROM cold.memories WHERE id IN ({marks})",
            batch,
        )
        conn.execute(
            "INSERT INTO main.cold_journal_blobs SELECT memory_id, role, media_type, data, "
            f"meta FROM cold.memory_blobs WHERE memory_id IN ({marks})",
            batch,
        )


def _create_memories(conn: apsw.Connection, ctx: SchemaContext) -> None:
    conn.execute(
        """
        CREATE TABLE memories (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            source TEXT NOT NULL,
            occurred_at REAL NOT NULL,
            ingested_at REAL NOT NULL,
            content_hash TEXT NOT NULL UNIQUE,
            text TEXT NOT NULL,
            tier TEXT NOT NULL DEFAULT 'sharp' CHECK (tier IN ('sharp', 'hazy', 'archive')),
            importance REAL NOT NULL DEFAULT 0.5 CHECK (importance BETWEEN 0 AND 1),
            strength REAL NOT NULL CHECK (strength > 0),
            last_recalled_at REAL,
            recall_count INTEGER NOT NULL DEFAULT 0,
            pinned INTEGER NOT NULL DEFAULT 0,
            vector_bytes INTEGER NOT NULL DEFAULT 0
        );
        -- Clustered by tier and time so a scan of one tier reads neighbouring pages.
        CREATE INDEX memories_tier_time ON memories (tier, occurred_at);
        CREATE INDEX memories_occurred ON memories (occurred_at);
        CREATE TABLE memory_links (
            from_id INTEGER NOT NULL REFERENCES memories (id) ON DELETE CASCADE,
            to_id INTEGER NOT NULL REFERENCES memories (id) ON DELETE CASCADE,
            relation TEXT NOT NULL,
            position INTEGER,
            PRIMARY KEY (from_id, to_id, relation)
        );
        CREATE INDEX memory_links_to ON memory_links (to_id);
        CREATE TABLE store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        """
    )


def _create_keyword_index(conn: apsw.Connection, ctx: SchemaContext) -> None:
    # External-content FTS5 kept in step by triggers, so a write and its index entry share
    # one transaction. secure-delete removes a forgotten memory's terms from the index itself.
    conn.execute(
        """
        CREATE VIRTUAL TABLE memory_fts USING fts5 (
            text, content = 'memories', content_rowid = 'id',
            tokenize = 'porter unicode61 remove_diacritics 2'
        );
        INSERT INTO memory_fts (memory_fts, rank) VALUES ('secure-delete', 1);
        CREATE TRIGGER memories_fts_insert AFTER INSERT ON memories BEGIN
            INSERT INTO memory_fts (rowid, text) VALUES (new.id, new.text);
        END;
        CREATE TRIGGER memories_fts_delete AFTER DELETE ON memories BEGIN
            INSERT INTO memory_fts (memory_fts, rowid, text) VALUES ('delete', old.id, old.text);
        END;
        CREATE TRIGGER memories_fts_update AFTER UPDATE OF text ON memories BEGIN
            INSERT INTO memory_fts (memory_fts, rowid, text) VALUES ('delete', old.id, old.text);
            INSERT INTO memory_fts (rowid, text) VALUES (new.id, new.text);
        END;
        """
    )


def _create_vectors(conn: apsw.Connection, ctx: SchemaContext) -> None:
    dim = int(ctx.vector_dim)
    conn.execute(
        f"CREATE VIRTUAL TABLE memory_vectors USING vec0 ("
        f"embedding float[{dim}] distance_metric=cosine)"
    )
    conn.execute(
        "INSERT INTO store_meta (key, value) VALUES ('vector_dim', ?), ('embedder', ?)",
        (str(dim), ctx.embedder),
    )


def _create_tier_vectors_and_blobs(conn: apsw.Connection, ctx: SchemaContext) -> None:
    # Lighter vectors for the colder tiers (storage/vectors.py), and the bytes that belong to
    # a memory: a rendered page, a thumbnail, original media. Deleted with their memory.
    dim = int(ctx.vector_dim)
    conn.execute(
        f"CREATE VIRTUAL TABLE memory_vectors_int8 USING vec0 ("
        f"embedding int8[{dim}] distance_metric=cosine)"
    )
    conn.execute(f"CREATE VIRTUAL TABLE memory_vectors_bit USING vec0 (embedding bit[{dim}])")
    conn.execute(
        """
        CREATE TABLE memory_blobs (
            memory_id INTEGER NOT NULL REFERENCES memories (id) ON DELETE CASCADE,
            role TEXT NOT NULL,
            media_type TEXT NOT NULL,
            data BLOB NOT NULL,
            meta TEXT NOT NULL DEFAULT '{}',
            PRIMARY KEY (memory_id, role)
        );
        """
    )


def _create_ingest_queue(conn: apsw.Connection, ctx: SchemaContext) -> None:
    # Requests the daemon has acknowledged and not yet stored (storage/queue.py).
    conn.execute(
        """
        CREATE TABLE ingest_queue (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            payload TEXT NOT NULL,
            received_at REAL NOT NULL
        );
        """
    )


def _cold_vectors_in_rows(conn: apsw.Connection, ctx: SchemaContext) -> None:
    # Flash-aware layout (storage/cold.py): a faded memory's vector moves into its own row,
    # beside its text, and the per-tier vec0 tables go; the sign-bit scan index is built in
    # the cold file from these rows when the store is next opened.
    conn.execute("ALTER TABLE memories ADD COLUMN cold_vector BLOB")
    for tier, table in (("hazy", "memory_vectors_int8"), ("archive", "memory_vectors_bit")):
        conn.execute(
            f"UPDATE memories SET cold_vector = (SELECT embedding FROM {table} "
            f"WHERE {table}.rowid = memories.id) WHERE tier = ?",
            (tier,),
        )
        conn.execute(f"DROP TABLE {table}")


def _faded_rows_in_cold_file(conn: apsw.Connection, ctx: SchemaContext) -> None:
    # Flash-aware layout, second step (storage/layout.py): hazy and archived rows and their
    # blobs move to the cold file; both files' tables are clustered by tier and time. The
    # keyword index becomes contentless, since its rows now live in two files (the store
    # removes a memory's terms with the FTS5 'delete' command and the old text: with
    # secure-delete that scrubs them, which contentless_delete does not), and links lose
    # their foreign keys for the same reason (the store deletes them with their memory).
    # Runs with foreign keys off (see migrate), so dropping the old table cascades nothing.
    _create_journal_007(conn)
    for trigger in ("insert", "delete", "update"):
        conn.execute(f"DROP TRIGGER memories_fts_{trigger}")
    conn.execute("DROP TABLE memory_fts")
    conn.execute(
        "CREATE VIRTUAL TABLE memory_fts USING fts5 (text, content = '', "
        "tokenize = 'porter unicode61 remove_diacritics 2')"
    )
    conn.execute("INSERT INTO memory_fts (memory_fts, rank) VALUES ('secure-delete', 1)")
    conn.execute("INSERT INTO memory_fts (rowid, text) SELECT id, text FROM main.memories")

    columns = _STORED_007
    conn.execute(
        f"INSERT INTO cold.memories ({columns}) SELECT {columns} FROM main.memories "
        "WHERE tier != 'sharp'"
    )
    conn.execute(
        "INSERT INTO cold.memory_blobs SELECT memory_id, role, media_type, data, meta "
        "FROM main.memory_blobs WHERE memory_id IN (SELECT id FROM cold.memories)"
    )
    # legacy_alter_table keeps the blobs' foreign key naming `memories`, which the new
    # table takes over, instead of following the old one to its drop.
    conn.execute("PRAGMA legacy_alter_table=ON")
    conn.execute("ALTER TABLE main.memories RENAME TO memories_before_007")
    conn.execute(_SHARP_MEMORIES_007)
    conn.execute("CREATE UNIQUE INDEX main.memories_id ON memories (id)")
    conn.execute(
        f"INSERT INTO main.memories ({columns}) SELECT {columns} FROM memories_before_007 "
        "WHERE tier = 'sharp'"
    )
    conn.execute("DROP TABLE memories_before_007")
    conn.execute("DELETE FROM main.memory_blobs WHERE memory_id IN (SELECT id FROM cold.memories)")
    conn.execute("ALTER TABLE memory_links RENAME TO memory_links_before_007")
    conn.execute(
        """
        CREATE TABLE memory_links (
            from_id INTEGER NOT NULL,
            to_id INTEGER NOT NULL,
            relation TEXT NOT NULL,
            position INTEGER,
            PRIMARY KEY (from_id, to_id, relation)
        )
        """
    )
    conn.execute("INSERT INTO memory_links SELECT * FROM memory_links_before_007")
    conn.execute("DROP TABLE memory_links_before_007")
    conn.execute("CREATE INDEX memory_links_to ON memory_links (to_id)")
    conn.execute("PRAGMA legacy_alter_table=OFF")

    _journal_007(conn, [int(row[0]) for row in conn.execute("SELECT id FROM cold.memories")])
    # The main file records the cold file's identity (the key as storage/cold.py named it
    # then); the scan index is derived data, so the store builds it once this is in.
    conn.execute(
        "INSERT OR REPLACE INTO main.store_meta (key, value) SELECT key, value "
        "FROM cold.cold_meta WHERE key = 'cold_file_id'"
    )
    conn.execute(
        "INSERT OR REPLACE INTO main.store_meta (key, value) VALUES (?, '1')",
        (STALE_SCAN_INDEX,),
    )


def _id_high_water_mark(conn: apsw.Connection, ctx: SchemaContext) -> None:
    # Ids are never given twice (chat turns and exports quote them): the highest id ever
    # given is kept in store_meta and outlives forgetting (storage/layout.py). A store from
    # before can only know the largest id it still holds.
    largest = max(
        int(next(iter(conn.execute(f"SELECT max(id) FROM {schema}.memories")))[0] or 0)
        for schema in ("main", "cold")
    )
    mark = list(conn.execute("SELECT value FROM main.store_meta WHERE key = 'last_id'"))
    if largest > (int(mark[0][0]) if mark else 0):
        conn.execute(
            "INSERT OR REPLACE INTO main.store_meta (key, value) VALUES ('last_id', ?)",
            (str(largest),),
        )


def _memory_marks(conn: apsw.Connection, ctx: SchemaContext) -> None:
    # What a later step has done with a memory (e.g. "facts": read for facts at
    # consolidation), so a rerun picks up where the last one stopped. In the main file, with
    # the links, and deleted with its memory by the store.
    conn.execute(
        """
        CREATE TABLE memory_marks (
            memory_id INTEGER NOT NULL,
            mark TEXT NOT NULL,
            PRIMARY KEY (mark, memory_id)
        ) WITHOUT ROWID
        """
    )
    conn.execute("CREATE INDEX memory_marks_id ON memory_marks (memory_id)")


# What papertape's ingest once wrote after a relative date: "last Saturday [6 May 2023]",
# "last week [week of 1 May 2023]", "next year [2024]". Frozen here, with the expressions it
# followed, so this migration undoes exactly that and nothing a person typed in brackets.
_RELATIVE = (
    r"(?:yesterday|today|tonight|tomorrow"
    r"|(?:last|this|next|past) (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday"
    r"|week|weekend|month|year)"
    r"|(?:\d{1,3}|a couple of|couple of|a few|few|an|a|one|two|three|four|five|six|seven"
    r"|eight|nine|ten|eleven|twelve) (?:day|week|month|year)s? ago)"
)
_PINNED = re.compile(
    r"\b(" + _RELATIVE + r")"
    r" \[(?:week of |weekend of )?(?:\d{1,2} )?(?:[A-Z][a-z]+ )?\d{4}\]",
    re.IGNORECASE,
)


def _unpinned(text: str) -> str:
    return _PINNED.sub(lambda match: match.group(1), text)


def _relative_dates_unpinned(conn: apsw.Connection, ctx: SchemaContext) -> None:
    # Stored text is the person's own words: the calendar dates ingest once wrote after
    # relative ones come out again, in both files, with the keyword index and the content
    # hash of a single note (sha256 of its stripped text, as ingest computes it) following.
    # A hash another row already holds (the same note stored at two dates) stays as it was:
    # consolidation merges the two. A document row's hash was of text no row holds whole,
    # and vectors were read from the pinned text; both stay (a few date words apart). The
    # cold rows changed go in the journal, as every write to both files does.
    changed_cold = []
    for schema in ("main", "cold"):
        rows = list(conn.execute(f"SELECT id, text, content_hash FROM {schema}.memories"))
        for memory_id, text, old_hash in rows:
            original = _unpinned(text)
            if original == text:
                continue
            new_hash = hashlib.sha256(original.strip().encode("utf-8")).hexdigest()
            taken = any(
                conn.execute(
                    f"SELECT 1 FROM {other}.memories WHERE content_hash = ?", (new_hash,)
                ).fetchone()
                for other in ("main", "cold")
            )
            rehash = old_hash == hashlib.sha256(text.strip().encode("utf-8")).hexdigest()
            conn.execute(
                f"UPDATE {schema}.memories SET text = ?, content_hash = ? WHERE id = ?",
                (original, new_hash if rehash and not taken else old_hash, memory_id),
            )
            conn.execute(
                "INSERT INTO memory_fts (memory_fts, rowid, text) VALUES ('delete', ?, ?)",
                (memory_id, text),
            )
            conn.execute(
                "INSERT INTO memory_fts (rowid, text) VALUES (?, ?)", (memory_id, original)
            )
            if schema == "cold":
                changed_cold.append(memory_id)
    _journal_007(conn, changed_cold)


def _memory_times(conn: apsw.Connection, ctx: SchemaContext) -> None:
    # Side tables beside a memory's text, never in it: in the main file, deleted with it.
    conn.execute(
        """
        CREATE TABLE memory_times (
            memory_id INTEGER PRIMARY KEY,
            words TEXT NOT NULL,
            unit TEXT NOT NULL,
            offset INTEGER NOT NULL
        )
        """
    )


def _memory_speakers(conn: apsw.Connection, ctx: SchemaContext) -> None:
    conn.execute("CREATE TABLE memory_speakers (memory_id INTEGER PRIMARY KEY, speaker TEXT)")


# The scripts written without spaces as this migration read them, frozen (storage/search.py
# holds today's rule): their characters are indexed as words of their own.
_UNSPACED_013 = ("CJK", "HIRAGANA", "KATAKANA", "HANGUL", "THAI", "LAO", "KHMER", "MYANMAR")


def _spaced_013(text: str) -> str:
    return "".join(
        f" {c} " if c > "\x7f" and unicodedata.name(c, "").startswith(_UNSPACED_013) else c
        for c in text
    )


def _unspaced_words_indexed(conn: apsw.Connection, ctx: SchemaContext) -> None:
    # Text in scripts without spaces was indexed as whole runs (a sentence one token): each
    # such memory is taken out of the keyword index with the text it went in with, and put
    # back with its characters set apart. Other memories' entries would not change.
    rows = conn.execute(
        "SELECT id, text FROM main.memories UNION ALL SELECT id, text FROM cold.memories"
    ).fetchall()
    for memory_id, text in rows:
        text = str(text)
        spaced = text if text.isascii() else _spaced_013(text)
        if spaced == text:
            continue
        conn.execute(
            "INSERT INTO memory_fts (memory_fts, rowid, text) VALUES ('delete', ?, ?)",
            (memory_id, text),
        )
        conn.execute("INSERT INTO memory_fts (rowid, text) VALUES (?, ?)", (memory_id, spaced))


Migration = Callable[[apsw.Connection, SchemaContext], None]

MIGRATIONS: tuple[tuple[str, Migration], ...] = (
    ("001_create_memories", _create_memories),
    ("002_create_keyword_index", _create_keyword_index),
    ("003_create_vectors", _create_vectors),
    ("004_tier_vectors_and_blobs", _create_tier_vectors_and_blobs),
    ("005_ingest_queue", _create_ingest_queue),
    ("006_cold_vectors_in_rows", _cold_vectors_in_rows),
    ("007_faded_rows_in_cold_file", _faded_rows_in_cold_file),
    ("008_id_high_water_mark", _id_high_water_mark),
    ("009_memory_marks", _memory_marks),
    ("010_relative_dates_unpinned", _relative_dates_unpinned),
    ("011_memory_times", _memory_times),
    ("012_memory_speakers", _memory_speakers),
    ("013_unspaced_words_indexed", _unspaced_words_indexed),
)
