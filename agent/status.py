"""What the status screen and `papertape doctor` report about a home."""

from __future__ import annotations

from dataclasses import dataclass

from storage import StoreStats


@dataclass(frozen=True)
class AppStatus:
    home: str
    daemon: str
    embedder: str
    loaded_models: tuple[str, ...]
    planned_model: str
    stats: StoreStats | None  # None while the daemon is busy with a long job
