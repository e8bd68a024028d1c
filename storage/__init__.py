"""SQLite storage for papertape: one connection factory, named migrations, memory records,
vectors (sqlite-vec), keywords (FTS5). Takes vectors and bytes, never models."""

from storage.budget import RamBudget
from storage.connection import open_connection
from storage.errors import ExtensionLoadError, StorageError, StoreMismatchError
from storage.health import DAMAGE_ERRORS, StoreDamagedError
from storage.records import (
    BLOB_ROLES,
    KINDS,
    RELATIONS,
    TIERS,
    TIME_UNITS,
    Blob,
    Link,
    Memory,
    NewMemory,
    StoreStats,
    TimeWords,
)
from storage.store import MemoryStore
from storage.store_upkeep import check_store_files, store_files

__all__ = [
    "BLOB_ROLES",
    "DAMAGE_ERRORS",
    "KINDS",
    "RELATIONS",
    "TIERS",
    "TIME_UNITS",
    "Blob",
    "ExtensionLoadError",
    "Link",
    "Memory",
    "MemoryStore",
    "NewMemory",
    "RamBudget",
    "StorageError",
    "StoreDamagedError",
    "StoreMismatchError",
    "StoreStats",
    "TimeWords",
    "check_store_files",
    "open_connection",
    "store_files",
]
