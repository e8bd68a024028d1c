"""The daemon's local API: JSON lines over a Unix domain socket in the home (mode 0600).

One request per connection: the client sends one JSON object on one line, {"op": ..., ...};
the daemon answers with zero or more progress lines ({"token": ...} while an answer
streams, {"progress": [done, total, label]} while files are stored) and one final line,
{"ok": true, "result": ...} or {"ok": false, "error": sentence, "code": 2 or 1}. There is no
TCP port: only this user's processes on this machine can connect.
"""

from __future__ import annotations

import json
import logging
import os
import socketserver
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent import wire
from agent.errors import Failure, UserError
from agent.ingest import IngestResult, files_under
from models.errors import ModelError
from storage import DAMAGE_ERRORS, StorageError
from storage.health import damaged

if TYPE_CHECKING:
    from agent.daemon import Daemon

log = logging.getLogger("papertape.api")

MAX_REQUEST = 16 * 1024 * 1024
Send = Callable[[dict[str, Any]], None]


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        def send(line: dict[str, Any]) -> None:
            self.wfile.write(json.dumps(line, ensure_ascii=False).encode() + b"\n")
            self.wfile.flush()

        try:
            raw = self.rfile.readline(MAX_REQUEST)
            try:
                request = json.loads(raw)
                if not isinstance(request, dict) or not isinstance(request.get("op"), str):
                    raise ValueError("not a request object")
            except (ValueError, UnicodeDecodeError):
                send({"ok": False, "error": "that is not a papertape request.", "code": 2})
                return
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
        except (BrokenPipeError, ConnectionResetError):
            log.info("a client went away mid-request")
        except Exception:  # one bad request must never take the daemon down
            log.exception("request failed")


class _Server(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True
    daemon: Daemon


def serve(daemon: Daemon) -> _Server:
    from agent.daemon import socket_path

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
        }
    if op == "note":
        text = str(request["text"])
        if not text.strip():
            raise UserError("the note is empty: give some text, or - to read it from stdin.")
        payload = {
            "text": text,
            "now": float(request["now"]),
            "occurred_at": request.get("occurred_at"),
            "source": request.get("source", "note"),
        }
        (result,) = daemon.submit([("note", payload)], payload["now"]).result()
        return wire.ingest_out(result)
    if op == "ingest":
        return _ingest(daemon, request, send)
    if op == "recall":
        with daemon.lock:
            hits = app.recall(
                str(request["query"]),
                now=float(request["now"]),
                k=request.get("k"),
                mode=request.get("mode", "fused"),
                strengthen=bool(request.get("strengthen", True)),
                deep=bool(request.get("deep", False)),
            )
        return [wire.hit_out(h) for h in hits]
    if op == "ask":
        with daemon.lock:
            session = app.chat(
                model=request.get("model"), remember=bool(request.get("remember", True))
            )
            answer = session.ask(
                str(request["question"]),
                now=float(request["now"]),
                on_token=lambda piece: send({"token": piece}),
            )
        return wire.answer_out(answer)
    if op == "forget":
        with daemon.lock:
            return app.forget([int(i) for i in request["ids"]])
    if op == "pin":
        with daemon.lock:
            return app.set_pinned([int(i) for i in request["ids"]], bool(request["pinned"]))
    if op == "stats":
        with daemon.lock:
            return wire.stats_out(app.stats())
    raise UserError(f"the daemon has no operation {op!r}.")


def _ingest(daemon: Daemon, request: dict[str, Any], send: Send) -> list[dict[str, Any]]:
    """Each file becomes its own queue item, so a killed daemon resumes a big folder."""
    now = float(request["now"])
    occurred_at = request.get("occurred_at")
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
