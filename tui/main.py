"""The `papertape` entry point: the command line, and the terminal UI when no command is given."""

from __future__ import annotations

from agent.api import MemoryService
from agent.cli import main as cli
from agent.clock import resolve_now


def open_ui(service: MemoryService, now_text: str | None = None) -> None:
    from tui.app import PapertapeApp  # Textual loads only when the UI opens

    def clock() -> float:
        return resolve_now(now_text)

    app = PapertapeApp(service, clock)
    app.run()
    if app.return_code:  # a crash: the shell and scripts see it
        raise SystemExit(app.return_code)


def main(argv: list[str] | None = None) -> None:
    cli.main(argv, open_ui=open_ui)


if __name__ == "__main__":
    main()
