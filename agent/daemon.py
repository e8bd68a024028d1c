"""The daemon: one process per home that takes in, consolidates and serves.

- A lock file (`daemon.lock`, holding the pid) keeps a second daemon off the same home.
- Requests to store something go into the ingest queue (storage/queue.py) before they are
  answered; one worker thread stores them in batches and takes each off the queue in the
  transaction that stores it. A restart resumes the queue; content hashes make replays
  harmless.
- APScheduler jobs (agent/daemon_jobs.py): consolidate, inbox watch, vacuum, capture.
  Coalesced after a sleep, one instance at a time.
- Every use of the store and the models goes through one lock, so heavy model work (an
  answer, a consolidation, a batch of embeddings) runs one at a time.
- SIGTERM or Ctrl-C: stop taking requests, let the job in hand finish, close.
"""

from __future__ import annotations

import fcntl
import json
import logging
import logging.handlers
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import apsw

from agent.clock import resolve_now
from agent.errors import Failure, UserError
from agent.ingest import IngestResult, NoteInput
from agent.service import Papertape
from agent.settings import Settings
from storage.queue import IngestQueue, QueuedItem, take

log = logging.getLogger("papertape.daemon")

LOCK_NAME = "daemon.lock"
VECTOR_BYTES = 1536  # a float32 MiniLM vector: what a new memory costs beyond its text
SOCKET_NAME = "papertape.sock"
LOG_NAME = "logs/daemon.log"
BATCH = 256
RETRY_S = 5.0


def lock_path(settings: Settings) -> Path:
    return settings.home / LOCK_NAME


def socket_path(settings: Settings) -> Path:
    return settings.home / SOCKET_NAME


def running_pid(settings: Settings) -> int | None:
    """The pid of the daemon that holds this home's lock, or None."""
    path = lock_path(settings)
    if not path.exists():
        return None
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            text = handle.read().strip()
            return int(text) if text.isdigit() else -1
        fcntl.flock(handle, fcntl.LOCK_UN)
    return None


class BudgetFull(Failure):
    """The store is at its byte budget and nothing in it may be let go."""


@dataclass
class Waiter:
    """A request waiting for its queued items to be stored."""

    future: Future[list[IngestResult]]
    remaining: dict[int, int]  # queue id -> position in the request
    results: list[IngestResult | None]
    progress: Callable[[int, int, str], None] | None = None


class Daemon:
    def __init__(self, settings: Settings, app: Papertape | None = None) -> None:
        self.settings = settings
        self.app = app or Papertape(settings)
        self.lock = threading.RLock()  # the store connection and the models: one user at a time
        self.queue_lock = threading.Lock()
        self.stopping = threading.Event()
        self.wake = threading.Event()
        self.started_at = time.time()
        self._lock_file: Any = None
        self._queue: IngestQueue | None = None
        self._waiters: dict[int, Waiter] = {}
        self._waiters_lock = threading.Lock()
        self.scheduler: Any = None
        self.server: Any = None
        self.last_error: str | None = None
        self._bytes: int | None = None  # the store's bytes as last counted, plus what came since

    # -- start and stop ----------------------------------------------------------------------

    def acquire_lock(self) -> None:
        self.settings.home.mkdir(parents=True, exist_ok=True)
        handle = open(lock_path(self.settings), "a+")  # noqa: SIM115 (held for the daemon's life)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            pid = handle.read().strip() or "?"
            handle.close()
            raise UserError(
                f"a daemon is already running for {self.settings.home} (pid {pid}): "
                "papertape daemon stop, or give another --home."
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._lock_file = handle

    def run(self, *, handle_signals: bool = True) -> None:
        """Serve until SIGTERM, Ctrl-C or stop()."""
        from agent.daemon_api import serve
        from agent.daemon_jobs import start_scheduler

        self.acquire_lock()
        try:
            with self.lock:
                self.app.store  # noqa: B018 (open and migrate before serving)
            self._queue = IngestQueue.open(self.settings.store_path)
            if handle_signals:
                signal.signal(signal.SIGTERM, lambda *_: self.stop())
                signal.signal(signal.SIGINT, lambda *_: self.stop())
            worker = threading.Thread(target=self._work, name="ingest-worker", daemon=True)
            worker.start()
            self.server = serve(self)
            server_thread = threading.Thread(
                target=self.server.serve_forever, name="api", daemon=True
            )
            server_thread.start()
            self.scheduler = start_scheduler(self)
            log.info(
                "papertape daemon %d serving %s on %s",
                os.getpid(),
                self.settings.home,
                socket_path(self.settings),
            )
            while not self.stopping.wait(0.5):
                pass
            log.info("stopping: finishing the job in hand")
            self.server.shutdown()
            self.server.server_close()
            self.scheduler.pause()  # no new runs while the running ones finish
            self.scheduler.shutdown(wait=True)
            self.wake.set()
            worker.join(timeout=120)
        finally:
            socket_path(self.settings).unlink(missing_ok=True)
            if self._queue is not None:
                self._queue.close()
            with self.lock:
                self.app.close()
            if self._lock_file is not None:
                fcntl.flock(self._lock_file, fcntl.LOCK_UN)
                self._lock_file.close()
            log.info("stopped")

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()

    # -- the queue ---------------------------------------------------------------------------

    def queue_count(self) -> int:
        assert self._queue is not None
        with self.queue_lock:
            return self._queue.count()

    def submit(
        self,
        items: list[tuple[str, dict[str, Any]]],
        now: float,
        progress: Callable[[int, int, str], None] | None = None,
    ) -> Future[list[IngestResult]]:
        """Write the items to the queue (durable once this returns), then let the worker
        store them; the future resolves with one result per item, in order."""
        assert self._queue is not None
        future: Future[list[IngestResult]] = Future()
        with self.queue_lock:
            try:
                ids = self._queue.put(items, now)
            except apsw.FullError:
                raise Failure(
                    "the disk is full: nothing was queued; free some space and try again."
                ) from None
        waiter = Waiter(future, {qid: i for i, qid in enumerate(ids)}, [None] * len(ids), progress)
        with self._waiters_lock:
            for qid in ids:
                self._waiters[qid] = waiter
        self.wake.set()
        return future

    def _work(self) -> None:
        while True:
            self.wake.wait(timeout=1.0)
            self.wake.clear()
            while not self.stopping.is_set() or self._has_waiters():
                assert self._queue is not None
                with self.queue_lock:
                    items = self._queue.pending(BATCH)
                if not items:
                    break
                try:
                    self._store(items)
                    self.last_error = None
                except apsw.FullError:
                    self._fail(items, "the disk is full: it stays queued and is stored later.")
                    self.stopping.wait(RETRY_S)
                    break
                except BudgetFull as exc:
                    self._fail(items, str(exc))
                    self.stopping.wait(RETRY_S)
                    break
                except Exception as exc:  # keep the queue; tell who is waiting; try later
                    log.exception("storing queued items failed")
                    self._fail(items, f"storing failed ({exc}); it stays queued.")
                    self.stopping.wait(RETRY_S)
                    break
                if self.stopping.is_set():
                    break
            if self.stopping.is_set():
                return

    def _has_waiters(self) -> bool:
        with self._waiters_lock:
            return bool(self._waiters)

    def _fits_budget(self, items: list[QueuedItem]) -> None:
        """Before storing: when the store would pass its byte budget, make room the way
        consolidation does; a store of pinned memories that cannot fit is an error, and the
        items stay queued."""
        budget = int(self.settings.byte_budget_mb * 1_000_000)
        if budget <= 0:
            return
        coming = sum(len(json.dumps(i.payload)) + VECTOR_BYTES for i in items)
        if self._bytes is None:
            self._bytes = self.app.store.stats().bytes
        if self._bytes + coming <= budget:
            self._bytes += coming
            return
        from agent.lifecycle import Consolidator
        from agent.summarize import ExtractiveSummarizer

        consolidator = Consolidator(
            self.app.store, self.app.embedder, self.settings, ExtractiveSummarizer()
        )
        report = consolidator.make_room(resolve_now(None), coming)
        self._bytes = report.bytes_after
        if report.moves:
            log.info("byte budget: %s", report.counts())
        if self._bytes + coming > budget:
            self._bytes = None
            raise BudgetFull(
                f"the store is at its byte budget ({self.settings.byte_budget_mb:g} MB) and "
                "holds nothing it may let go (pinned memories stay): raise byte_budget_mb, "
                "or unpin or forget something. It stays queued."
            )
        self._bytes += coming

    def _store(self, items: list[QueuedItem]) -> None:
        with self.lock:
            self._fits_budget(items)
            # Notes in runs of the same clock, so each keeps the `now` it was sent with.
            run: list[QueuedItem] = []
            for item in items:
                if item.kind == "note":
                    if run and run[0].payload["now"] != item.payload["now"]:
                        self._store_run(run)
                        run = []
                    run.append(item)
                else:
                    self._store_run(run)
                    run = []
                    self._store_path(item)
            self._store_run(run)

    def _store_run(self, run: list[QueuedItem]) -> None:
        if not run:
            return
        store = self.app.store
        results = self.app.ingestor.notes(
            [
                NoteInput(
                    i.payload["text"],
                    i.payload.get("occurred_at") or i.payload["now"],
                    i.payload.get("source", "note"),
                )
                for i in run
            ],
            now=run[0].payload["now"],
            on_write=lambda index: take(store.conn, run[index].id),
        )
        for item, result in zip(run, results, strict=True):
            if result.status == "rejected":  # never written, so not yet taken off
                with store.transaction():
                    take(store.conn, item.id)
            self._resolve(item.id, result)

    def _store_path(self, item: QueuedItem) -> None:
        store = self.app.store
        path = Path(item.payload["path"])
        results = self.app.ingestor.paths(
            [path],
            now=item.payload["now"],
            occurred_at=item.payload.get("occurred_at"),
            on_write=lambda _: take(store.conn, item.id),
        )
        result = results[0]
        if result.status == "rejected":
            with store.transaction():
                take(store.conn, item.id)
        after = item.payload.get("after")
        if after == "move":
            from agent.inbox import file_away

            file_away(path, result)
        self._resolve(item.id, result)

    def _resolve(self, queue_id: int, result: IngestResult) -> None:
        with self._waiters_lock:
            waiter = self._waiters.pop(queue_id, None)
        if waiter is None:
            return
        position = waiter.remaining.pop(queue_id)
        waiter.results[position] = result
        if waiter.progress:
            done = len(waiter.results) - len(waiter.remaining)
            try:
                waiter.progress(done, len(waiter.results), result.label)
            except OSError:  # the client went away; the work goes on
                waiter.progress = None
        if not waiter.remaining:
            waiter.future.set_result([r for r in waiter.results if r is not None])

    def _fail(self, items: list[QueuedItem], reason: str) -> None:
        self.last_error = reason
        log.error(reason)
        with self._waiters_lock:
            waiters = {id(w): w for i in items if (w := self._waiters.pop(i.id, None))}
            for qid, waiter in list(self._waiters.items()):
                if id(waiter) in waiters:
                    del self._waiters[qid]
        for waiter in waiters.values():
            if not waiter.future.done():
                waiter.future.set_exception(Failure(reason))


def configure_logging(settings: Settings, *, to_terminal: bool, verbose: int = 0) -> None:
    """Log to a rotating file in the home (1 MB x 3) and, in the foreground, the terminal."""
    path = settings.home / LOG_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    file_handler = logging.handlers.RotatingFileHandler(path, maxBytes=1_000_000, backupCount=3)
    file_handler.setFormatter(formatter)
    root.addHandler(file_handler)
    if to_terminal and not any(
        isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler)
        for h in root.handlers
    ):
        terminal = logging.StreamHandler()
        terminal.setFormatter(formatter)
        root.addHandler(terminal)
    root.setLevel(logging.INFO - 10 * min(verbose, 1))
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
