"""The `papertape` entry point: the command line, and the terminal UI when no command is given."""

from __future__ import annotations

import asyncio
import os
import sys

from agent.api import MemoryService
from agent.cli import main as cli
from agent.clock import resolve_now


def open_ui(service: MemoryService, now_text: str | None = None) -> None:
    from tui.app import PapertapeApp  # Textual loads only when the UI opens

    def clock() -> float:
        return resolve_now(now_text)

    app = PapertapeApp(service, clock)
    # Our own loop: asyncio.run would wait, after the UI has closed, for a model call still
    # running in a worker thread (a minute on 2 cores).
    loop = asyncio.new_event_loop()
    try:
        app.run(loop=loop)
    finally:
        loop.close()
    if app.return_code:  # a crash: the shell and scripts see it
        raise SystemExit(app.return_code)
    if app.answering:
        # Quit mid-answer: nothing of an unfinished answer is stored, and a store left open
        # is whole (SQLite's journal), so leave without waiting for the model's thread.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def main(argv: list[str] | None = None) -> None:
    cli.main(argv, open_ui=open_ui)


if __name__ == "__main__":
    main()
