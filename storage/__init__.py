"""SQLite storage for papertape: one connection factory, named migrations, memory records,
vectors (sqlite-vec), keywords (FTS5). Takes vectors and bytes, never models."""

from storage.budget import RamBudget
from storage.connection import open_connection
from storage.errors import ExtensionLoadError, StorageError, StoreMismatchError
from storage.records import (
    BLOB_ROLES,
    KINDS,
    RELATIONS,
    TIERS,
    Blob,
    Link,
    Memory,
    NewMemory,
    StoreStats,
)
from storage.store import MemoryStore, store_files

__all__ = [
    "BLOB_ROLES",
    "Blob",
    "KINDS",
    "RELATIONS",
    "TIERS",
    "ExtensionLoadError",
    "Link",
    "Memory",
    "MemoryStore",
    "NewMemory",
    "StorageError",
    "StoreMismatchError",
    "StoreStats",
    "RamBudget",
    "open_connection",
    "store_files",
]
