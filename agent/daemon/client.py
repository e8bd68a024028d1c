"""Talking to a running daemon: a socket client, and the memory service through it.

`RemotePapertape` implements agent.api.MemoryService. Every write (note, ingest, recall,
which strengthens what it finds, ask, forget, pin, edit) goes to the daemon, the home's one
writer, which queues, embeds and runs the model. Reads that change nothing (the timeline,
export, the inspector's details) open the store beside it, which SQLite's WAL allows.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

from agent.answer.recall import Mode, RecallHit
from agent.answer.session import Answer
from agent.api import MemoryService
from agent.daemon import wire
from agent.daemon.paths import socket_path
from agent.errors import Failure, UserError
from agent.ingest.notes import IngestResult, NoteInput, check_speaker
from agent.ingest.pipeline import Progress
from agent.limits import check_note
from agent.memory.report import ConsolidationReport
from agent.memory.report import Progress as ConsolidationProgress
from agent.service import Papertape, check_recall
from agent.settings import Settings
from agent.status import AppStatus
from storage import Blob, Link, Memory, StoreStats, TimeWords

CONNECT_TIMEOUT_S = 2.0


class HungUp(Failure):
    """The daemon closed the connection before it answered: it stopped, or was killed."""


class DaemonClient:
    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def find(cls, settings: Settings) -> DaemonClient | None:
        """A client when a daemon answers on this home's socket, else None."""
        path = socket_path(settings)
        if not path.exists():
            return None
        client = cls(path)
        try:
            client.call("status", timeout=CONNECT_TIMEOUT_S)
        except (OSError, Failure):
            return None
        return client

    def call(
        self,
        op: str,
        *,
        on_line: Callable[[dict[str, Any]], None] | None = None,
        timeout: float | None = None,
        **args: Any,
    ) -> Any:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(timeout)
            conn.connect(str(self.path))
            # refused before it was read whole (too big): its answer says why
            with suppress(BrokenPipeError, ConnectionResetError):
                conn.sendall(json.dumps({"op": op, **args}, ensure_ascii=False).encode() + b"\n")
            with conn.makefile("rb") as lines:
                try:
                    for raw in lines:
                        line = json.loads(raw)
                        if "ok" not in line:
                            if on_line:
                                on_line(line)
                            continue
                        if line["ok"]:
                            return line["result"]
                        error = UserError if line.get("code") == 2 else Failure
                        raise error(line["error"])
                except ConnectionResetError:
                    pass
        raise HungUp(
            "the daemon closed the connection without an answer (stopped or killed?): what it "
            "had queued is taken in when it runs again (papertape daemon start); see its log."
        )


class RemoteChat:
    """ChatSession's ask, answered by the daemon."""

    def __init__(
        self, client: DaemonClient, model: str | None, session: str | None, remember: bool
    ) -> None:
        self.client = client
        self.model = model
        self.session = session
        self.remember = remember

    def ask(
        self, question: str, *, now: float, on_token: Callable[[str], None] | None = None
    ) -> Answer:
        def line(data: dict[str, Any]) -> None:
            if "token" in data and on_token:
                on_token(data["token"])

        result = self.client.call(
            "ask",
            on_line=line,
            question=question,
            now=now,
            model=self.model,
            session=self.session,
            remember=self.remember,
        )
        return wire.answer_in(result)


class RemotePapertape:
    def __init__(self, settings: Settings, client: DaemonClient) -> None:
        self.settings = settings
        self.client = client
        self._reader = Papertape(settings)  # reads only; opens the store on first use
        self.lock = self._reader.lock
        if self._reader.unlocked.key is not None:
            # A wrong or missing passphrase is refused before anything is sent: the daemon
            # would store a note that this command's own reads could then not open.
            _ = self._reader.store

    def note(
        self,
        text: str,
        *,
        now: float,
        occurred_at: float | None = None,
        source: str = "note",
        speaker: str | None = None,
        progress: Progress | None = None,  # the daemon embeds it; its steps are not sent
    ) -> IngestResult:
        check_note(text, self.settings)  # before a byte is sent
        if speaker is not None:
            speaker = check_speaker(speaker)
        result = self.client.call(
            "note", text=text, now=now, occurred_at=occurred_at, source=source, speaker=speaker
        )
        return wire.ingest_in(result)

    def note_many(
        self, notes: Sequence[NoteInput], *, now: float, progress: Progress | None = None
    ) -> list[IngestResult]:
        return [
            self.note(
                n.text, now=now, occurred_at=n.occurred_at, source=n.source, speaker=n.speaker
            )
            for n in notes
        ]

    def ingest(
        self,
        paths: Sequence[Path],
        *,
        now: float,
        occurred_at: float | None = None,
        progress: Progress | None = None,
    ) -> list[IngestResult]:
        def line(data: dict[str, Any]) -> None:
            if "progress" in data and progress:
                progress(*data["progress"])

        results = self.client.call(
            "ingest",
            on_line=line,
            paths=[str(p) for p in paths],
            now=now,
            occurred_at=occurred_at,
        )
        return [wire.ingest_in(r) for r in results]

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
    ) -> list[RecallHit]:
        check_recall(query, k)
        hits = self.client.call(
            "recall",
            query=query,
            now=now,
            k=k,
            mode=mode,
            strengthen=strengthen,
            deep=deep,
            include_chat=include_chat,
        )
        return [wire.hit_in(h) for h in hits]

    def chat(
        self, *, model: str | None = None, session: str | None = None, remember: bool = True
    ) -> RemoteChat:
        return RemoteChat(self.client, model, session, remember)

    def forget(self, ids: Iterable[int]) -> list[int]:
        return [int(i) for i in self.client.call("forget", ids=list(ids))]

    def set_pinned(self, ids: Iterable[int], pinned: bool) -> list[int]:
        return [int(i) for i in self.client.call("pin", ids=list(ids), pinned=pinned)]

    def restore_current(self, ids: Iterable[int]) -> dict[int, list[int]]:
        found = self.client.call("current", ids=list(ids))
        return {int(memory_id): [int(i) for i in newer] for memory_id, newer in found}

    def edit(self, memory_id: int, text: str) -> Memory:
        return wire.memory_in(self.client.call("edit", id=memory_id, text=text))

    def consolidate(
        self,
        *,
        now: float,
        model: str | None = None,
        summarizer: str | None = None,
        progress: ConsolidationProgress | None = None,
    ) -> ConsolidationReport:
        def line(data: dict[str, Any]) -> None:
            if "progress" in data and progress:
                progress(*data["progress"])

        result = self.client.call(
            "consolidate", on_line=line, now=now, model=model, summarizer=summarizer
        )
        return wire.consolidation_in(result)

    def stats(self) -> StoreStats:
        return wire.stats_in(self.client.call("stats"))

    def status(self) -> AppStatus:
        daemon = self.client.call("status")
        busy = daemon.get("busy")
        return AppStatus(
            home=str(self.settings.home),
            daemon=f"running (pid {daemon['pid']}, up {daemon['uptime_s']:.0f} s, "
            f"{daemon['queued']} queued)" + (f"; {busy}" if busy else ""),
            embedder=self._reader.embedder_name,
            loaded_models=("served by the daemon",),
            planned_model=self._reader.planned_model(),
            # The store's counts wait on the job in hand: asked for only when there is none.
            stats=None if busy else self.stats(),
        )

    def is_empty(self) -> bool:
        return self._reader.is_empty()

    def memory(self, memory_id: int) -> Memory:
        return self._reader.memory(memory_id)

    def links(self, memory_id: int) -> list[Link]:
        return self._reader.links(memory_id)

    def page(self, memory_id: int) -> Blob | None:
        return self._reader.page(memory_id)

    def last_conversation(self) -> str | None:
        return self._reader.last_conversation()

    def time_words(self, memory_id: int) -> TimeWords | None:
        return self._reader.time_words(memory_id)

    def replaced_by(self, memory_id: int) -> int | None:
        return self._reader.replaced_by(memory_id)

    def read_back(self, memory: Memory) -> str | None:
        return self._reader.read_back(memory)

    def timeline(
        self, *, before: tuple[float, int] | None = None, limit: int = 100
    ) -> list[Memory]:
        return self._reader.timeline(before=before, limit=limit)

    def export(self) -> Iterator[str]:
        return self._reader.export()

    def close(self) -> None:
        self._reader.close()


def open_papertape(settings: Settings) -> MemoryService:
    """Through the daemon when one serves this home, else in-process."""
    client = DaemonClient.find(settings)
    return Papertape(settings) if client is None else RemotePapertape(settings, client)
