"""The papertape terminal UI: chat, recall, timeline and status tabs over one service.

Model and storage work runs in thread workers that post typed messages back (tui/messages.py),
so the interface never waits on a model. The clock is injected, so snapshots are stable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, Header, TabbedContent, TabPane

from agent.api import MemoryService
from tui.chat import ChatPane
from tui.guarded import guarded
from tui.inspector import Inspector
from tui.messages import MemoryChosen, StoreChanged
from tui.screens import HelpScreen, WelcomeScreen
from tui.search import RecallPane
from tui.status import StatusPane
from tui.timeline import TimelinePane


class PapertapeApp(App[None]):
    CSS = """
    TabbedContent { height: 1fr; }
    TabPane { height: 1fr; padding: 0; }
    """
    TITLE = "papertape"
    SUB_TITLE = "an offline memory that forgets well"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "help", "Help"),
        Binding("f2", "show('chat')", "Chat"),
        Binding("f3", "show('recall')", "Recall"),
        Binding("f4", "show('timeline')", "Timeline"),
        Binding("f5", "show('status')", "Status"),
        # Checked before any screen's own keys: it quits from a dialog or the inspector too.
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    def __init__(self, service: MemoryService, clock: Callable[[], float]) -> None:
        super().__init__()
        self.service = guarded(service)
        self.clock = clock
        self._chat = ChatPane(id="chat-pane")

    @property
    def answering(self) -> bool:
        """Whether a model call (an answer, or opening a chat) still runs in its thread."""
        return self._chat.busy

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(initial="chat"):
            with TabPane("Chat", id="chat"):
                yield self._chat
            with TabPane("Recall", id="recall"):
                yield RecallPane(id="recall-pane")
            with TabPane("Timeline", id="timeline"):
                yield TimelinePane(id="timeline-pane")
            with TabPane("Status", id="status"):
                yield StatusPane(id="status-pane")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(ChatPane).focus_input()
        if self.service.is_empty():
            self.push_screen(WelcomeScreen())

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_show(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        self._focus_tab(tab)

    @on(TabbedContent.TabActivated)
    def tab_changed(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id:
            self._focus_tab(event.pane.id)

    def _focus_tab(self, tab: str) -> None:
        if tab == "chat":
            self.query_one(ChatPane).focus_input()
        elif tab == "recall":
            self.query_one(RecallPane).focus_input()
        elif tab == "timeline":
            # What another command or the daemon stored since shows when the tab is opened.
            self.query_one(TimelinePane).reload()
            self.query_one("#days").focus()
        elif tab == "status":
            # Nothing there takes focus: left on the Recall box, focus took Recall's tab back.
            self.set_focus(None)
            self.query_one(StatusPane).reload()

    def on_memory_chosen(self, message: MemoryChosen) -> None:
        self.push_screen(Inspector(message.memory_id))

    def _fatal_error(self) -> None:
        """A crash is shown as Textual shows it, but without each frame's local variables:
        here they hold memories' text, and the text of an edit before its secrets go."""
        from rich.segment import Segments
        from rich.traceback import Traceback

        self.bell()
        trace = Traceback(show_locals=False, width=None)
        self._exit_renderables.append(Segments(self.console.render(trace, self.console.options)))
        self._close_messages_no_wait()

    def on_store_changed(self, message: StoreChanged) -> None:
        self.query_one(TimelinePane).reload()
        self.query_one(StatusPane).reload()
        self.query_one(RecallPane).search()
