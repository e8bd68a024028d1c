"""What the command line, the terminal UI and the MCP server may ask of papertape.

One Protocol, two implementations: `agent.service.Papertape` serves a home in-process, and
`agent.daemon.client.RemotePapertape` sends every write to the running daemon, the home's
one writer, and reads the store beside it (SQLite's WAL lets several processes read).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol

from agent.answer.recall import Mode, RecallHit
from agent.answer.session import Answer
from agent.ingest.notes import IngestResult, NoteInput
from agent.ingest.pipeline import Progress
from agent.memory.report import ConsolidationReport
from agent.memory.report import Progress as ConsolidationProgress
from agent.settings import Settings
from agent.status import AppStatus
from storage import Blob, Link, Memory, StoreStats, TimeWords

# The records the fronts are handed, so that tui/ never imports storage/.
__all__ = ["Asker", "Blob", "Link", "Memory", "MemoryService", "RecallHit", "StoreStats"]


class Asker(Protocol):
    """A conversation over the memories: each question answered from them."""

    def ask(
        self, question: str, *, now: float, on_token: Callable[[str], None] | None = None
    ) -> Answer: ...


class MemoryService(Protocol):
    settings: Settings
    # Held around each call by a host that calls from several threads (agent/service.py).
    lock: AbstractContextManager[Any]

    # -- writes: the daemon makes them while it runs ------------------------------------------
    def note(
        self,
        text: str,
        *,
        now: float,
        occurred_at: float | None = None,
        source: str = "note",
        speaker: str | None = None,
        progress: Progress | None = None,
    ) -> IngestResult: ...

    def note_many(
        self, notes: Sequence[NoteInput], *, now: float, progress: Progress | None = None
    ) -> list[IngestResult]: ...

    def ingest(
        self,
        paths: Sequence[Path],
        *,
        now: float,
        occurred_at: float | None = None,
        progress: Progress | None = None,
    ) -> list[IngestResult]: ...

    def recall(
        self,
        query: str,
        *,
        now: float,
        k: int | None = None,
        mode: Mode = "fused",
        strengthen: bool = True,
        deep: bool = False,
        include_chat: bool | None = None,
    ) -> list[RecallHit]: ...

    def chat(
        self, *, model: str | None = None, session: str | None = None, remember: bool = True
    ) -> Asker: ...

    def forget(self, ids: Iterable[int]) -> list[int]: ...

    def set_pinned(self, ids: Iterable[int], pinned: bool) -> list[int]: ...

    def restore_current(self, ids: Iterable[int]) -> dict[int, list[int]]: ...

    def edit(self, memory_id: int, text: str) -> Memory: ...

    def consolidate(
        self,
        *,
        now: float,
        model: str | None = None,
        summarizer: str | None = None,
        progress: ConsolidationProgress | None = None,
    ) -> ConsolidationReport: ...

    # -- reads ---------------------------------------------------------------------------------
    def stats(self) -> StoreStats: ...

    def status(self) -> AppStatus: ...

    def is_empty(self) -> bool: ...

    def memory(self, memory_id: int) -> Memory: ...

    def links(self, memory_id: int) -> list[Link]: ...

    def page(self, memory_id: int) -> Blob | None: ...

    def last_conversation(self) -> str | None: ...

    def time_words(self, memory_id: int) -> TimeWords | None: ...

    def replaced_by(self, memory_id: int) -> int | None: ...

    def read_back(self, memory: Memory) -> str | None: ...

    def timeline(
        self, *, before: tuple[float, int] | None = None, limit: int = 100
    ) -> list[Memory]: ...

    def export(self) -> Iterator[str]: ...

    def close(self) -> None: ...
