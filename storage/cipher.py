"""Encryption at rest: keying connections and telling an encrypted file from a plain one.

SQLite3 Multiple Ciphers (the `apsw-sqlite3mc` build of apsw) encrypts every page of a file
and of its WAL with ChaCha20-Poly1305; the passphrase is stretched by its PBKDF2-SHA256 with
KDF_ITER rounds and a salt kept in the file's first 16 bytes. Bytes 16-23 of the header stay
in the clear (page size, reserved bytes, payload fractions), which is how a file is known to
be encrypted without its key. The key must be the first thing set on every connection, and
every attached file is given it too (storage/cold.py). Converting a store between plain,
encrypted and re-keyed is storage/convert.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import apsw

from storage.errors import StorageError

CIPHER = "chacha20"
# SQLCipher 4's default: about 0.1-0.2 s per file opened on a 2-core laptop, paid once per
# connection, never per query.
KDF_ITER = 256_000
MAGIC = b"SQLite format 3\x00"
# Bytes 21-23 of every SQLite header: max and min embedded payload fraction, leaf fraction.
# sqlite3mc leaves them readable, so with a valid page size they mark an encrypted file.
_FRACTIONS = b"\x40\x20\x20"


class WrongKeyError(StorageError):
    """The key given does not open the store (or it is not encrypted, or page 1 is damaged)."""


class KeyNeededError(StorageError):
    """The store is encrypted and no key was given."""


@dataclass(frozen=True)
class Key:
    """A passphrase. Never shown: repr and str hide it."""

    passphrase: str

    def __post_init__(self) -> None:
        if not self.passphrase:
            raise ValueError("an empty passphrase is no key")

    def __repr__(self) -> str:
        return "Key(***)"

    __str__ = __repr__


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def apply_key(conn: apsw.Connection, key: Key | None) -> None:
    """Key a fresh connection: call before anything else reads or writes it. The cipher and
    its rounds are set first so they hold for the main file and every file attached later."""
    if key is None:
        return
    list(conn.execute(f"PRAGMA cipher={_quote(CIPHER)}"))
    list(conn.execute(f"PRAGMA kdf_iter={KDF_ITER}"))
    list(conn.execute(f"PRAGMA key={_quote(key.passphrase)}"))


def attach_key(key: Key | None) -> str:
    """What `ATTACH ... KEY ?` takes: the passphrase, or '' for a plain file."""
    return "" if key is None else key.passphrase


def looks_encrypted(header: bytes) -> bool:
    """Whether a file's first 100 bytes are an sqlite3mc-encrypted SQLite header."""
    if len(header) < 24 or header.startswith(MAGIC):
        return False
    size = int.from_bytes(header[16:18], "big")
    size = 65536 if size == 1 else size
    return 512 <= size <= 65536 and not size & (size - 1) and header[21:24] == _FRACTIONS


def unopened(path: Path | str, key: Key | None) -> str:
    if key is None:
        return (
            f"the store at {path} is encrypted: give its passphrase (PAPERTAPE_PASSPHRASE, "
            "the OS keyring, or run papertape in a terminal to be asked)."
        )
    return (
        f"the passphrase does not open the store at {path}: check it and try again "
        "(if you are sure of it, papertape doctor --check looks for damage)."
    )
