"""The memory service as the terminal UI's threads share it.

Workers (search, timeline, status, chat) and the screens' own actions call the service from
several threads, and the store behind it is one SQLite connection, which serves one thread
at a time: two at once failed with "database is locked" or a threading error. Every call
holds the service's lock. `chat` is the exception: loading the model takes a minute, so the
service takes the lock itself only while it reads the store, and the session only while it
reads or writes it (agent/answer/session.py).

When the UI went through the daemon and the daemon stops, the next call finds its socket
gone; the home is then opened in-process, as the command line does, and the call made there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from agent.api import MemoryService
from agent.daemon.client import DaemonClient, RemotePapertape, open_papertape

# What a call raises when the daemon's socket is gone or no one listens on it: nothing
# was sent, so making the call in-process does nothing twice.
DAEMON_GONE = (FileNotFoundError, ConnectionRefusedError)
UNGUARDED = frozenset({"settings", "lock"})


class _Guarded:
    def __init__(self, service: MemoryService, reopen: Callable[[], MemoryService]) -> None:
        self._service = service
        self._reopen = reopen

    def __getattr__(self, name: str) -> Any:
        if name == "chat":
            return self._chat
        found = getattr(self._service, name)
        if name in UNGUARDED or not callable(found):
            return found

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return self._locked(name, args, kwargs)
            except DAEMON_GONE:
                if not isinstance(self._service, RemotePapertape):
                    raise
                self._fall_back()
            return self._locked(name, args, kwargs)

        return call

    def _locked(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        while True:
            lock = self._service.lock
            with lock:
                if self._service.lock is lock:  # not swapped while this thread waited
                    return getattr(self._service, name)(*args, **kwargs)

    def _chat(self, **kwargs: Any) -> Any:
        """A session where the service is now: a session through the daemon says nothing
        to it until its first question, so whether the daemon still answers is asked here."""
        remote = self._service
        if isinstance(remote, RemotePapertape) and DaemonClient.find(remote.settings) is None:
            self._fall_back()
        return self._service.chat(**kwargs)

    def _fall_back(self) -> None:
        gone = self._service
        with gone.lock:
            if self._service is gone:
                self._service = self._reopen()
                gone.close()


def guarded(
    service: MemoryService, reopen: Callable[[], MemoryService] | None = None
) -> MemoryService:
    """`service`, one call at a time, opened again by `reopen` (default: through the daemon
    if one answers, else in-process) when the daemon it went through is gone."""
    return cast(
        MemoryService, _Guarded(service, reopen or (lambda: open_papertape(service.settings)))
    )


def through_daemon(service: MemoryService) -> bool:
    """Whether the UI's calls go to a running daemon (its jobs run beside the UI)."""
    inner = service._service if isinstance(service, _Guarded) else service
    return isinstance(inner, RemotePapertape)
