"""The daemon's local API: JSON lines over a Unix domain socket in the home (mode 0600).

One request per connection: the client sends one JSON object on one line, {"op": ..., ...};
the daemon answers with zero or more progress lines ({"token": ...} while an answer
streams, {"progress": [done, total, label]} while files are stored) and one final line,
{"ok": true, "result": ...} or {"ok": false, "error": sentence, "code": 2 or 1}. There is no
TCP port: only this user's processes on this machine can connect.

Limits: a request over `max_request_mb` is refused after reading that much (never all of
it); a client silent for `client_timeout_s` is dropped; NaN and infinite numbers are refused;
every request gets an answer, an unexpected failure included. The listen backlog takes a
burst of hundreds of clients. A note's secrets are redacted before it is queued, so its raw
text is never written to any file.
"""

from __future__ import annotations

import json
import logging
import math
import os
import socketserver
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.daemon import wire
from agent.daemon.jobs import consolidate_now
from agent.daemon.paths import socket_path
from agent.errors import Failure, Stopped, UserError
from agent.ingest.files import files_under
from agent.ingest.notes import IngestResult, check_speaker, clean_note
from agent.ingest.redact import redact
from agent.limits import check_note, request_limit_bytes, request_too_big
from models.errors import ModelError
from storage import DAMAGE_ERRORS, StorageError
from storage.health import damaged

if TYPE_CHECKING:
    from agent.daemon.server import Daemon

log = logging.getLogger("papertape.api")

BACKLOG = 1024  # connections waiting to be accepted: a burst of clients is queued, not refused
Send = Callable[[dict[str, Any]], None]


class _NotFinite(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    raise _NotFinite(name)


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def setup(self) -> None:
        super().setup()
        # A silent client (no request, or a reply not read) is dropped after this long.
        self.connection.settimeout(self.server.daemon.settings.client_timeout_s)

    def handle(self) -> None:
        def send(line: dict[str, Any]) -> None:
            self.wfile.write(json.dumps(line, ensure_ascii=False).encode() + b"\n")
            self.wfile.flush()

        try:
            self._serve(send)
        except TimeoutError:
            log.info("a client was silent for %g s: dropped", self.connection.gettimeout())
            with suppress(OSError):
                send({"ok": False, "error": "the request did not come in time.", "code": 2})
        except (BrokenPipeError, ConnectionResetError):
            log.info("a client went away mid-request")
        except Exception as exc:  # one bad request must never take the daemon down
            log.exception("request failed")
            with suppress(OSError):  # and it still gets an answer
                send({"ok": False, "error": f"the daemon failed ({exc}); see its log.", "code": 1})

    def _serve(self, send: Send) -> None:
        settings = self.server.daemon.settings
        limit = request_limit_bytes(settings)
        raw = self.rfile.readline(limit + 1)  # never more than the limit in memory
        if len(raw) > limit:
            # The rest stays unread; the client sees this answer, then the connection close.
            send({"ok": False, "error": request_too_big(settings), "code": 2})
            return
        try:
            request = json.loads(raw, parse_constant=_refuse_constant)
            if not isinstance(request, dict) or not isinstance(request.get("op"), str):
                raise ValueError("not a request object")
        except _NotFinite as exc:
            send({"ok": False, "error": f"{exc} is not a number papertape takes.", "code": 2})
            return
        except (ValueError, UnicodeDecodeError):
            send({"ok": False, "error": "that is not a papertape request.", "code": 2})
            return
        self._answer(request, send)

    def _answer(self, request: dict[str, Any], send: Send) -> None:
        try:
            result = dispatch(self.server.daemon, request, send)
        except UserError as exc:
            send({"ok": False, "error": str(exc), "code": 2})
            return
        except (Failure, StorageError, ModelError) as exc:
            send({"ok": False, "error": str(exc), "code": 1})
            return
        except DAMAGE_ERRORS as exc:  # SQLite met damage no check had looked at yet
            send({"ok": False, "error": str(damaged(None, str(exc))), "code": 1})
            return
        except (KeyError, TypeError, ValueError) as exc:
            send({"ok": False, "error": f"a malformed request ({exc}).", "code": 2})
            return
        send({"ok": True, "result": result})


class _Server(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True
    request_queue_size = BACKLOG
    daemon: Daemon


def serve(daemon: Daemon) -> _Server:
    path = socket_path(daemon.settings)
    path.unlink(missing_ok=True)  # a stale socket from a killed daemon; the lock said we own it
    old = os.umask(0o177)  # the socket is born 0600: no window where others could connect
    try:
        server = _Server(str(path), _Handler)
    finally:
        os.umask(old)
    os.chmod(path, 0o600)
    server.daemon = daemon
    return server


def _time(request: dict[str, Any], name: str) -> float:
    """A time in the request (seconds since the epoch): a finite number, or refused."""
    value = request.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise UserError(f"{name} must be a finite number of seconds, not {value!r}.")
    return float(value)


def _maybe_time(request: dict[str, Any], name: str) -> float | None:
    return None if request.get(name) is None else _time(request, name)


def dispatch(daemon: Daemon, request: dict[str, Any], send: Send) -> Any:
    op = request["op"]
    app = daemon.app
    if op == "status":
        jobs = []
        if daemon.scheduler is not None:
            for job in daemon.scheduler.get_jobs():
                when = job.next_run_time
                jobs.append({"name": job.id, "next_run": when.isoformat() if when else None})
        return {
            "pid": os.getpid(),
            "home": str(daemon.settings.home),
            "uptime_s": round(time.time() - daemon.started_at, 1),
            "queued": daemon.queue_count(),
            "jobs": jobs,
            "last_error": daemon.last_error,
            "busy": daemon.busy,
        }
    if op == "note":
        text = str(request["text"])
        if not text.strip():
            raise UserError("the note is empty: give some text.")
        check_note(text, daemon.settings)
        speaker = request.get("speaker")
        # Secrets out before the queue writes it down: no file ever holds the raw text.
        cleaned = clean_note(text)
        said_by = None if speaker is None else redact(check_speaker(str(speaker)))
        now = _time(request, "now")
        payload: dict[str, Any] = {
            "text": cleaned.text,
            "speaker": None if said_by is None else said_by.text,
            "redacted": cleaned.total + (0 if said_by is None else said_by.total),
            "now": now,
            "occurred_at": _maybe_time(request, "occurred_at"),
            "source": str(request.get("source", "note")),
        }
        (result,) = daemon.submit([("note", payload)], now).result()
        return wire.ingest_out(result)
    if op == "ingest":
        return _ingest(daemon, request, send)
    if op == "recall":
        with daemon.lock:
            hits = app.recall(
                str(request["query"]),
                now=_time(request, "now"),
                k=request.get("k"),
                mode=request.get("mode", "fused"),
                strengthen=bool(request.get("strengthen", True)),
                deep=bool(request.get("deep", False)),
                include_chat=request.get("include_chat"),
            )
        return [wire.hit_out(h) for h in hits]
    if op == "ask":

        def token(piece: str) -> None:
            if daemon.stopping.is_set():  # the answer stops here; nothing of it is stored
                raise Stopped("the daemon is stopping: ask again when it runs.")
            send({"token": piece})

        now = _time(request, "now")
        with daemon.lock:
            session = app.chat(
                model=request.get("model"),
                session=request.get("session"),
                remember=bool(request.get("remember", True)),
            )
            answer = session.ask(str(request["question"]), now=now, on_token=token)
        return wire.answer_out(answer)
    if op == "forget":
        with daemon.lock:
            return app.forget([int(i) for i in request["ids"]])
    if op == "pin":
        with daemon.lock:
            return app.set_pinned([int(i) for i in request["ids"]], bool(request["pinned"]))
    if op == "current":
        with daemon.lock:
            # JSON objects have string keys: pairs keep the ids as numbers.
            return list(app.restore_current([int(i) for i in request["ids"]]).items())
    if op == "edit":
        with daemon.lock:
            return wire.memory_out(app.edit(int(request["id"]), str(request["text"])))
    if op == "consolidate":
        return _consolidate(daemon, request, send)
    if op == "stats":
        with daemon.lock:
            return wire.stats_out(app.stats())
    raise UserError(f"the daemon has no operation {op!r}.")


def _consolidate(daemon: Daemon, request: dict[str, Any], send: Send) -> dict[str, Any]:
    """A consolidation asked for now, its progress sent as it goes. A client that hangs up
    (Ctrl-C) stops it at its next step, as Ctrl-C stops one run in-process; what it had
    committed stays, and the next run goes on from there."""
    summarizer = request.get("summarizer")
    if summarizer not in (None, "extractive"):
        raise UserError(f"summarizer must be extractive or left out, not {summarizer!r}.")
    model = request.get("model")

    def progress(done: int, total: int, label: str) -> None:
        try:
            send({"progress": [done, total, label]})
        except OSError:
            raise Stopped(
                "the client went away: consolidation stopped after its last step."
            ) from None

    report = consolidate_now(
        daemon,
        now=_time(request, "now"),
        model=None if model is None else str(model),
        summarizer=summarizer,
        progress=progress,
    )
    return wire.consolidation_out(report)


def _ingest(daemon: Daemon, request: dict[str, Any], send: Send) -> list[dict[str, Any]]:
    """Each file becomes its own queue item, so a killed daemon resumes a big folder."""
    now = _time(request, "now")
    occurred_at = _maybe_time(request, "occurred_at")
    items: list[tuple[str, dict[str, Any]]] = []
    missing = []
    for raw in request["paths"]:
        path = Path(str(raw)).expanduser().resolve()
        if not path.exists():
            missing.append(str(raw))
            continue
        files = files_under(path, daemon.settings.home) if path.is_dir() else [path]
        for file in files:
            items.append(("path", {"path": str(file), "now": now, "occurred_at": occurred_at}))
    results = []
    if items:
        send({"queued": len(items)})
        future = daemon.submit(
            items, now, progress=lambda done, total, label: send({"progress": [done, total, label]})
        )
        results = [wire.ingest_out(r) for r in future.result()]
    results += [
        wire.ingest_out(IngestResult(m, "rejected", reason="does not exist")) for m in missing
    ]
    return results
