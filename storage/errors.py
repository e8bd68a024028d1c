"""Errors raised by the storage layer; each message says what to do."""


class StorageError(Exception):
    """A storage failure the caller can explain to the user."""


class ExtensionLoadError(StorageError):
    """sqlite-vec or FTS5 could not be loaded into SQLite."""


class StoreMismatchError(StorageError):
    """The store on disk was built with different vectors than the caller asks for."""
