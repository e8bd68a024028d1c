"""Status: the daemon, the models, and what the store holds per tier."""

from __future__ import annotations

from dataclasses import replace

from rich.markup import escape
from textual import work
from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Static

from agent.cli.output import stats_text
from agent.daemon.client import DaemonClient
from agent.status import AppStatus
from tui.guarded import through_daemon
from tui.host import host

REFRESH_S = 3.0
DAEMON_SINCE = (
    "running, started after this window opened: this window works in-process; open "
    "papertape again to go through the daemon"
)


def status_text(status: AppStatus) -> str:
    lines = [
        f"[b]home[/b]       {escape(status.home)}",
        f"[b]daemon[/b]     {status.daemon}",
        f"[b]embedder[/b]   {status.embedder}",
        "[b]language model[/b]",
        f"  planned    {escape(status.planned_model)}",
        "  loaded     "
        + (", ".join(status.loaded_models) or "none yet (loads on the first question)"),
        "",
        # The same table `papertape stats` prints, once the daemon's job in hand is done.
        escape(stats_text(status.stats))
        if status.stats is not None
        else "The store's counts show when the daemon's job is done.",
    ]
    return "\n".join(lines)


class StatusPane(Widget):
    DEFAULT_CSS = """
    StatusPane { layout: vertical; height: 1fr; padding: 1 2; }
    """

    def compose(self) -> ComposeResult:
        yield Static("Reading the store…", id="status-text")

    def on_mount(self) -> None:
        self.reload()
        # A daemon's consolidation can run for minutes: its progress shows as it goes. (In
        # process there is no job running beside the UI, and the store's one connection is
        # the UI's own.)
        if through_daemon(host(self).service):
            self.set_interval(REFRESH_S, self._refresh_if_shown)

    def _refresh_if_shown(self) -> None:
        if self.is_on_screen:
            self.reload()

    def reload(self) -> None:
        self._gather()

    @work(thread=True, exclusive=True, group="status")
    def _gather(self) -> None:
        service = host(self).service
        status = service.status()
        if not through_daemon(service) and DaemonClient.find(service.settings) is not None:
            status = replace(status, daemon=DAEMON_SINCE)
        self.app.call_from_thread(
            self.query_one("#status-text", Static).update, status_text(status)
        )
