"""Timeline: memories by day, newest first, loaded a page at a time as you scroll back."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import DataTable, Label

from agent.api import Memory
from tui.badges import badge, day, moment, snippet
from tui.host import host
from tui.messages import MemoryChosen

PAGE = 100
OTHER_COLUMNS = 40  # what the when, tier, kind and id columns take, with their gaps


class TimelinePane(Widget):
    DEFAULT_CSS = """
    TimelinePane { layout: vertical; height: 1fr; }
    TimelinePane #days { height: 1fr; }
    TimelinePane #timeline-status { height: 1; color: $text-muted; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._oldest: tuple[float, int] | None = None
        self._last_day: str | None = None
        self._exhausted = False
        self._loading = False
        self.loaded = 0

    def compose(self) -> ComposeResult:
        yield Label("", id="timeline-status")
        table: DataTable[str] = DataTable(id="days", cursor_type="row")
        yield table

    def on_mount(self) -> None:
        self.query_one("#days", DataTable).add_columns("when", "tier", "kind", "id", "text")
        self.reload()

    def reload(self) -> None:
        self.query_one("#days", DataTable).clear()
        self._oldest = None
        self._last_day = None
        self._exhausted = False
        self.loaded = 0
        self.load_more()

    def load_more(self) -> None:
        if self._exhausted or self._loading:
            return
        self._loading = True
        self._fetch(self._oldest)

    @work(thread=True, group="timeline")
    def _fetch(self, before: tuple[float, int] | None) -> None:
        page = host(self).service.timeline(before=before, limit=PAGE)
        self.app.call_from_thread(self._show, page)

    def _show(self, page: list[Memory]) -> None:
        self._loading = False
        table = self.query_one("#days", DataTable)
        text_width = max(60, self.app.size.width - OTHER_COLUMNS)  # a wide terminal shows more
        for memory in page:
            today = day(memory.occurred_at)
            if today != self._last_day:
                table.add_row(f"[b]── {today} ──[/b]", "", "", "", "", key=f"day:{today}")
                self._last_day = today
            table.add_row(
                moment(memory.occurred_at)[11:],
                badge(memory.tier, memory.pinned),
                memory.kind,
                str(memory.id),
                snippet(memory.text, text_width),
                key=str(memory.id),
            )
        self.loaded += len(page)
        if page:
            self._oldest = (page[-1].occurred_at, page[-1].id)
        if len(page) < PAGE:
            self._exhausted = True
        self.query_one("#timeline-status", Label).update(
            f"{self.loaded} memor{'y' if self.loaded == 1 else 'ies'} shown"
            + ("" if self._exhausted else "; scroll down for older ones")
        )

    @on(DataTable.RowHighlighted, "#days")
    def near_the_end(self, event: DataTable.RowHighlighted) -> None:
        table = self.query_one("#days", DataTable)
        if event.cursor_row >= table.row_count - 5:
            self.load_more()

    @on(DataTable.RowSelected, "#days")
    def open_row(self, event: DataTable.RowSelected) -> None:
        key = event.row_key.value
        if key is not None and not key.startswith("day:"):
            self.post_message(MemoryChosen(int(key)))
