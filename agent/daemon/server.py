"""The daemon: one process per home that takes in, consolidates and serves.

- A lock file (`daemon.lock`, holding the pid) keeps a second daemon off the same home.
- Requests to store something go into the ingest queue (storage/queue.py) before they are
  answered, a note's secrets already redacted (agent/daemon/api.py); one worker thread stores
  them in batches and takes each off the queue in the transaction that stores it. A
  duplicate, a refusal or an exclusion writes nothing and leaves the queue too. A restart
  resumes the queue; content hashes make replays harmless.
- Nothing can block the queue: when a batch fails, its items are tried one by one, and one
  that fails alone MAX_ATTEMPTS times (or is still queued after it was handled) is dropped
  with a line in the log and a sentence to whoever waits. A pass that takes nothing off the
  queue waits RETRY_S before the next, so the worker never spins.
- APScheduler jobs (agent/daemon/jobs.py): consolidate, inbox watch, vacuum, capture.
  Coalesced after a sleep, one instance at a time.
- Every use of the store and the models goes through one lock, so heavy model work (an
  answer, a consolidation, a batch of embeddings) runs one at a time.
- SIGTERM or Ctrl-C: stop taking requests; the job in hand stops at its next step (an item,
  a batch of embeddings, a consolidation episode, an answer's next token), what it had not
  committed is rolled back and stays queued, and waiting clients are told so. A step that
  does not end within STOP_GRACE_S is cut off (SQLite rolls it back, as after kill -9,
  which loses nothing acknowledged) so the process ends within seconds.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import apsw

from agent.clock import resolve_now
from agent.daemon.api import serve
from agent.daemon.jobs import start_scheduler
from agent.daemon.paths import lock_path, socket_path
from agent.errors import Failure, Stopped, UserError
from agent.ingest.notes import IngestResult, NoteInput
from agent.service import Papertape
from agent.settings import Settings
from storage.queue import IngestQueue, QueuedItem, take

log = logging.getLogger("papertape.daemon")

VECTOR_BYTES = 1536  # a float32 MiniLM vector: what a new memory costs beyond its text
BATCH = 256
RETRY_S = 5.0
MAX_ATTEMPTS = 3  # an item failing alone this often is dropped, so it blocks nothing
STOP_GRACE_S = 5.0  # on SIGTERM, how long the job in hand may take to reach its next step
STOPPING = "the daemon is stopping: it stays queued and is stored when the daemon starts again."


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
        # The long job in hand and how far it has gone ("consolidating: facts ... (3 of 12)"),
        # for status while it holds the lock.
        self.busy: str | None = None
        self._bytes: int | None = None  # the store's bytes as last counted, plus what came since
        self._attempts: dict[int, int] = {}  # queue id -> failed tries alone, this run

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

        self.acquire_lock()
        deadline = time.monotonic() + STOP_GRACE_S  # set again when the stop comes
        clean = False
        try:
            with self.lock:
                self.app.store  # noqa: B018 (open and migrate before serving)
                self.app.ingestor.should_stop = self.stopping.is_set
            # Queued requests hold memory text: the queue is keyed like the store.
            self._queue = IngestQueue.open(self.settings.store_path, key=self.app.unlocked.key)
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
            log.info("stopping: the job in hand stops at its next step")
            deadline = time.monotonic() + STOP_GRACE_S
            self.server.shutdown()
            self.server.server_close()
            self.scheduler.shutdown(wait=False)  # no new runs; a running one stops at a step
            self.wake.set()
            worker.join(timeout=max(0.0, deadline - time.monotonic()))
            self._fail_all(STOPPING)
        finally:
            socket_path(self.settings).unlink(missing_ok=True)
            # Every use of the store holds the lock: once it is free, nothing is mid-write.
            clean = self.lock.acquire(timeout=max(0.1, deadline - time.monotonic()))
            if clean:
                try:
                    if self._queue is not None:
                        self._queue.close()
                    self.app.close()
                finally:
                    self.lock.release()
            if self._lock_file is not None:
                fcntl.flock(self._lock_file, fcntl.LOCK_UN)
                self._lock_file.close()
            if not clean:
                log.warning(
                    "stopped without waiting for the job in hand: SQLite rolls back what it "
                    "had not committed, and the queue keeps it"
                )
            log.info("stopped")
        if not clean and handle_signals:
            # Threads still inside SQLite or a model would hold the interpreter's exit; what
            # they had not committed is rolled back by SQLite when the files are next opened.
            logging.shutdown()
            os._exit(0)

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
        try:
            while not self.stopping.is_set():
                self.wake.wait(timeout=1.0)
                self.wake.clear()
                while not self.stopping.is_set():
                    assert self._queue is not None
                    with self.queue_lock:
                        items = self._queue.pending(BATCH)
                    if not items:
                        break
                    try:
                        progressed = self._store_batch(items)
                    except Exception:  # the store itself failed: keep the worker alive
                        log.exception("the ingest worker failed")
                        progressed = False
                    if not progressed:
                        self.stopping.wait(RETRY_S)  # nothing left the queue: never spin
                        break
        finally:
            self._fail_all(STOPPING)

    def _store_batch(self, items: list[QueuedItem]) -> bool:
        """Store a batch; when it fails, each item alone, so one that cannot be stored holds
        up no other. Returns whether anything left the queue."""
        try:
            self._store(items)
            self.last_error = None
        except Stopped:
            return False
        except apsw.FullError:
            self._fail(items, "the disk is full: it stays queued and is stored later.")
            return False
        except (apsw.BusyError, apsw.LockedError):
            self._fail(items, "another program holds the store: it stays queued.")
            return False
        except BudgetFull as exc:
            self._fail(items, str(exc))
            return False
        except Exception as exc:
            if len(items) > 1:
                log.warning("storing %d queued items failed (%s); one at a time", len(items), exc)
                stored = [self._store_batch([item]) for item in items if not self.stopping.is_set()]
                return any(stored)
            log.exception("storing queued item %d failed", items[0].id)
            self._failed_alone(items[0], f"storing failed ({exc})")
            return False
        # Each item is taken off in the transaction that handles it; one still queued (a
        # fault in that rule) must not come back forever.
        with self.queue_lock:
            assert self._queue is not None
            left = self._queue.queued([item.id for item in items])
        for item in items:
            if item.id in left:
                self._failed_alone(item, "it was handled but stayed queued")
        return len(left) < len(items)

    def _failed_alone(self, item: QueuedItem, reason: str) -> None:
        """Count a failed try of one item; after MAX_ATTEMPTS, drop it from the queue."""
        tries = self._attempts.get(item.id, 0) + 1
        self._attempts[item.id] = tries
        if tries < MAX_ATTEMPTS:
            self._fail([item], f"{reason}; it stays queued and is tried again.")
            return
        with self.lock, self.app.store.transaction():
            take(self.app.store.conn, item.id)
        self._attempts.pop(item.id, None)
        # The log names the queue item, never its text.
        self._fail([item], f"{reason}, {tries} times; it was dropped from the queue.")

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
        from agent.memory.consolidation import Consolidator
        from agent.memory.summaries import ExtractiveSummarizer

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
                    # Queued by this version: already redacted. Older queues hold raw text.
                    0 if "redacted" in i.payload else None,
                    i.payload.get("speaker"),
                )
                for i in run
            ],
            now=run[0].payload["now"],
            on_write=lambda index: take(store.conn, run[index].id),
        )
        with store.transaction():
            for item, result in zip(run, results, strict=True):
                if result.status != "stored":  # a duplicate or refusal wrote nothing, took nothing
                    take(store.conn, item.id)
        for item, result in zip(run, results, strict=True):
            done = int(item.payload.get("redacted") or 0)  # taken out before it was queued
            self._resolve(item.id, replace(result, redacted=result.redacted + done))

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
        if result.status != "stored":  # a duplicate, refusal or exclusion wrote nothing
            with store.transaction():
                take(store.conn, item.id)
        after = item.payload.get("after")
        if after == "move":
            from agent.ingest.inbox import file_away

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

    def _fail_all(self, reason: str) -> None:
        """Tell every client still waiting (the daemon is stopping)."""
        with self._waiters_lock:
            waiters = {id(w): w for w in self._waiters.values()}
            self._waiters.clear()
        for waiter in waiters.values():
            if not waiter.future.done():
                waiter.future.set_exception(Stopped(reason))

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
