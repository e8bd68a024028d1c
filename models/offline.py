"""Keep the runtimes offline: switched before any of them is imported.

onnxruntime (1.32) starts Microsoft's telemetry when it is imported: it writes a database
under ~/.cache/Microsoft/DeveloperTools and, some seconds later, looks up and posts to
mobile.events.data.microsoft.com. Only the environment variable ORT_DISABLE_TELEMETRY, set
before the import, stops both (disable_telemetry_events() after it comes too late for the
database). Every runtime that loads onnxruntime (MiniLM here, rapidocr's own sessions,
faster-whisper's voice-activity model) is imported from this package, and importing any
module of it runs `stay_offline()` first (models/__init__.py).
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager

# onnxruntime reads it when it is imported: no telemetry database, no upload.
OFFLINE_ENV = {"ORT_DISABLE_TELEMETRY": "1"}


def stay_offline() -> None:
    """Set the runtimes' offline switches (over the person's environment: that nothing
    leaves the machine is not a setting); when onnxruntime was imported before (by code
    outside papertape), turn its telemetry events off as well."""
    os.environ.update(OFFLINE_ENV)
    ort = sys.modules.get("onnxruntime")
    disable = getattr(ort, "disable_telemetry_events", None)
    if disable is not None:
        disable()


@contextmanager
def no_ipv6_probe() -> Iterator[None]:
    """Around a runtime's import: rapidocr imports requests (for images at URLs, which
    papertape never gives it), and urllib3 under it opens and binds an IPv6 socket at import
    to learn whether the machine has IPv6. Meanwhile Python's own flag says it has none, so
    no socket is made; nothing here speaks HTTP."""
    before = socket.has_ipv6
    socket.has_ipv6 = False
    try:
        yield
    finally:
        socket.has_ipv6 = before
