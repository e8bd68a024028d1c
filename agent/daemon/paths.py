"""Where a home's daemon keeps its lock, socket and log, and whether one is running.

The client, the CLI and the server all need these; none of them needs the server for it.
"""

from __future__ import annotations

import fcntl
import logging
import logging.handlers
from pathlib import Path

from agent.settings import Settings

LOCK_NAME = "daemon.lock"
SOCKET_NAME = "papertape.sock"
LOG_NAME = "logs/daemon.log"


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
