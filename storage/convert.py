"""Converting a store between plain, encrypted and re-keyed, never leaving it half done.

A conversion (encrypt, decrypt, new passphrase) writes both files anew beside the store with
`VACUUM INTO` (encrypted as the target URI says), checks that the copies open with the new key
and hold what the originals hold, syncs them, writes a manifest, and only then renames them
into place. A store opened while a manifest exists has the renames finished first
(`recover`); copies without a manifest were never checked and are deleted. So a kill at any
point leaves one whole store, under the old key or under the new one.
"""

from __future__ import annotations

import json
import os
import urllib.parse
from collections.abc import Callable
from pathlib import Path

import apsw

from storage import cold
from storage.cipher import (
    CIPHER,
    KDF_ITER,
    Key,
    WrongKeyError,
    apply_key,
    attach_key,
    looks_encrypted,
    unopened,
)
from storage.errors import StorageError

NEW_SUFFIX = ".converting"  # a copy being written; deleted unless a manifest names it
MANIFEST_SUFFIX = ".swap"  # written once both copies are checked: finish the renames


def state(path: Path) -> str:
    """ "missing" (no store yet), "plain" or "encrypted". Finishes a conversion a crash cut
    off first, so the answer is about the store as it will open."""
    recover(path)
    try:
        with open(path, "rb") as handle:
            header = handle.read(100)
    except FileNotFoundError:
        return "missing"
    if not header:
        return "missing"
    return "encrypted" if looks_encrypted(header) else "plain"


def pairs(path: Path) -> list[tuple[Path, Path]]:
    """(copy, file) for the store's main and cold files."""
    files = [path, Path(cold.cold_path(path))]
    return [(f.with_name(f.name + NEW_SUFFIX), f) for f in files]


def manifest_path(path: Path) -> Path:
    return path.with_name(path.name + MANIFEST_SUFFIX)


def recover(path: Path) -> bool:
    """Finish a conversion whose copies were checked (a manifest exists), or delete copies
    that never were. Returns whether a conversion was finished here."""
    manifest = manifest_path(path)
    if manifest.exists():
        _swap(path)
        return True
    for copy, _ in pairs(path):
        for leftover in (copy, *_sidecars(copy)):
            leftover.unlink(missing_ok=True)
    return False


def _sidecars(file: Path) -> list[Path]:
    return [file.with_name(file.name + suffix) for suffix in ("-wal", "-shm", "-journal")]


def _swap(path: Path) -> None:
    for copy, file in pairs(path):
        if not copy.exists():
            continue  # renamed before the crash
        # The old file's WAL was checkpointed into it and emptied before the copy was made;
        # left beside the new file it would be read as the new file's.
        for sidecar in _sidecars(file):
            sidecar.unlink(missing_ok=True)
        os.replace(copy, file)
    _sync_dir(path.parent)
    manifest_path(path).unlink(missing_ok=True)
    _sync_dir(path.parent)


def _sync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync(file: Path) -> None:
    fd = os.open(file, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _target(file: Path, key: Key | None) -> str:
    """The URI VACUUM INTO writes to: encrypted with `key`, or plain (an empty key)."""
    params = {"cipher": CIPHER, "kdf_iter": str(KDF_ITER), "key": attach_key(key)}
    query = "&".join(f"{k}={urllib.parse.quote(v, safe='')}" for k, v in params.items())
    return f"file:{urllib.parse.quote(str(file.resolve()))}?{query}"


def _open(path: Path, key: Key | None) -> apsw.Connection:
    """The store's main file with its cold file attached, keyed, for copying or checking."""
    flags = apsw.SQLITE_OPEN_READWRITE | apsw.SQLITE_OPEN_URI
    conn = apsw.Connection(str(path), flags=flags)
    try:
        apply_key(conn, key)
        conn.execute("ATTACH DATABASE ? AS cold KEY ?", (cold.cold_path(path), attach_key(key)))
        conn.set_busy_timeout(10_000)
        list(conn.execute("SELECT count(*) FROM main.sqlite_master"))
        list(conn.execute("SELECT count(*) FROM cold.sqlite_master"))
    except apsw.NotADBError:
        conn.close()
        raise WrongKeyError(unopened(path, key)) from None
    except BaseException:
        conn.close()
        raise
    return conn


def _summary(conn: apsw.Connection) -> tuple[int, ...]:
    """What a copy must hold like the original: rows in each file's main tables."""
    found = []
    for table in (
        "main.memories",
        "cold.memories",
        "main.memory_links",
        "main.memory_blobs",
        "cold.memory_blobs",
    ):
        found.append(int(next(iter(conn.execute(f"SELECT count(*) FROM {table}")))[0]))
    found.append(int(next(iter(conn.execute("SELECT count(*) FROM main.sqlite_master")))[0]))
    return tuple(found)


Pause = Callable[[str], None]


def convert(path: Path, old: Key | None, new: Key | None, pause: Pause | None = None) -> None:
    """Rewrite the store at `path` (both files) from key `old` to key `new` (None: plain).
    Other processes must not write the store meanwhile (the caller holds the home's lock);
    one that does is caught by SQLite's data_version and the conversion refused.
    `pause(stage)`, for tests, is called between the steps."""
    step = pause or (lambda _stage: None)
    recover(path)
    source = _open(path, old)
    try:
        list(source.execute("PRAGMA main.wal_checkpoint(TRUNCATE)"))
        list(source.execute("PRAGMA cold.wal_checkpoint(TRUNCATE)"))
        before = _versions(source)
        expected = _summary(source)
        for (copy, _), schema in zip(pairs(path), ("main", "cold"), strict=True):
            copy.unlink(missing_ok=True)
            source.execute(f"VACUUM {schema} INTO ?", (_target(copy, new),))
            copy.chmod(0o600)
            step(f"copied {schema}")
        if _versions(source) != before:
            raise StorageError(
                "the store changed while it was being converted (another papertape wrote "
                "to it): nothing was changed; stop it and try again."
            )
    except BaseException:
        source.close()
        recover(path)  # no manifest yet: the copies go
        raise
    source.close()
    try:
        _check_copies(path, new, expected)
    except BaseException:
        recover(path)
        raise
    step("checked")
    for copy, _ in pairs(path):
        _sync(copy)
    manifest = manifest_path(path)
    temp = manifest.with_name(manifest.name + ".tmp")
    temp.write_text(json.dumps({"files": [str(f) for _, f in pairs(path)]}), encoding="utf-8")
    _sync(temp)
    os.replace(temp, manifest)
    _sync_dir(path.parent)
    step("manifest written")
    main_copy, main_file = pairs(path)[0]
    for sidecar in _sidecars(main_file):
        sidecar.unlink(missing_ok=True)
    os.replace(main_copy, main_file)
    step("main file swapped")
    _swap(path)


def _versions(conn: apsw.Connection) -> tuple[int, int]:
    return tuple(  # type: ignore[return-value]
        int(next(iter(conn.execute(f"PRAGMA {s}.data_version")))[0]) for s in ("main", "cold")
    )


def _check_copies(path: Path, key: Key | None, expected: tuple[int, ...]) -> None:
    (main_copy, _), (cold_copy, _) = pairs(path)
    conn = apsw.Connection(str(main_copy), flags=apsw.SQLITE_OPEN_READWRITE)
    try:
        apply_key(conn, key)
        conn.execute("ATTACH DATABASE ? AS cold KEY ?", (str(cold_copy), attach_key(key)))
        for schema in ("main", "cold"):
            found = [str(r[0]) for r in conn.execute(f"PRAGMA {schema}.quick_check(3)")]
            if found != ["ok"]:
                raise StorageError(
                    f"the converted copy of the {schema} file failed its check "
                    f"({'; '.join(found)}): nothing was changed."
                )
        if _summary(conn) != expected:
            raise StorageError(
                "the converted copy does not hold what the store holds: nothing was changed."
            )
    except apsw.Error as exc:
        raise StorageError(
            f"the converted copy does not open ({exc}): nothing was changed."
        ) from None
    finally:
        conn.close()
