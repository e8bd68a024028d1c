"""Status: the daemon, the models, and what the store holds per tier."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Static

from agent.output import human_bytes
from agent.service import AppStatus
from tui.host import host


def status_text(status: AppStatus) -> str:
    stats = status.stats
    lines = [
        f"[b]home[/b]       {status.home}",
        f"[b]daemon[/b]     {status.daemon}",
        "[b]ingest[/b]     no queue: notes are stored as they are typed",
        f"[b]embedder[/b]   {status.embedder}",
        "[b]language model[/b]",
        f"  planned    {status.planned_model}",
        "  loaded     "
        + (", ".join(status.loaded_models) or "none yet (loads on the first question)"),
        "",
        f"[b]{stats.memories} memories[/b], {human_bytes(stats.bytes)} "
        f"({human_bytes(stats.file_bytes)} on disk)",
        "",
        f"{'tier':<10}{'count':>8}{'bytes':>12}",
    ]
    lines += [f"{n:<10}{b.count:>8}{human_bytes(b.bytes):>12}" for n, b in stats.tiers.items()]
    lines += ["", f"{'kind':<10}{'count':>8}{'bytes':>12}"]
    lines += [f"{n:<10}{b.count:>8}{human_bytes(b.bytes):>12}" for n, b in stats.kinds.items()]
    return "\n".join(lines)


class StatusPane(Widget):
    DEFAULT_CSS = """
    StatusPane { layout: vertical; height: 1fr; padding: 1 2; }
    """

    def compose(self) -> ComposeResult:
        yield Static("Reading the store…", id="status-text")

    def on_mount(self) -> None:
        self.reload()

    def reload(self) -> None:
        self._gather()

    @work(thread=True, exclusive=True, group="status")
    def _gather(self) -> None:
        status = host(self).service.status()
        self.app.call_from_thread(
            self.query_one("#status-text", Static).update, status_text(status)
        )
