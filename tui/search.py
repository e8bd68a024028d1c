"""Recall: search as you type, filtered by kind, tier and dates, ranked as `papertape recall`."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import DataTable, Input, Label, Select

from agent.clock import parse_time
from agent.errors import UserError
from agent.filters import Filters
from agent.snippets import around
from tui.badges import badge, day, history, literal
from tui.host import host
from tui.messages import MemoryChosen, SearchResults

KINDS = ("text", "fact", "document", "chat", "audio", "screenshot", "summary")
TIERS = ("sharp", "hazy", "archive")
POOL = 100  # ranked memories fetched, then filtered
OTHER_COLUMNS = 50  # what the id, score, tier, kind and date columns take, with their gaps


class RecallPane(Widget):
    DEFAULT_CSS = """
    RecallPane { layout: vertical; height: 1fr; }
    RecallPane #filters { height: 3; }
    RecallPane #filters Select { width: 18; }
    RecallPane #filters Input { width: 18; }  /* a whole ISO date shows */
    RecallPane #hits { height: 1fr; }
    RecallPane #recall-status { height: 1; color: $text-muted; }
    """

    def compose(self) -> ComposeResult:
        yield Input(placeholder="Search your memories…", id="query")
        with Horizontal(id="filters"):
            yield Select([(k, k) for k in KINDS], prompt="any kind", id="kind")
            yield Select([(t, t) for t in TIERS], prompt="any tier", id="tier")
            yield Input(placeholder="from YYYY-MM-DD", id="since")
            yield Input(placeholder="to YYYY-MM-DD", id="until")
        yield Label("Type to search.", id="recall-status")
        table: DataTable[str] = DataTable(id="hits", cursor_type="row", zebra_stripes=True)
        yield table

    def on_mount(self) -> None:
        self.query_one("#hits", DataTable).add_columns(
            "id", "score", "tier", "kind", "date", "text"
        )

    def focus_input(self) -> None:
        self.query_one("#query", Input).focus()

    @on(Input.Changed)
    @on(Select.Changed)
    def refilter(self) -> None:
        self.search()

    def search(self) -> None:
        query = self.query_one("#query", Input).value.strip()
        if not query:
            self.query_one("#hits", DataTable).clear()
            self.query_one("#recall-status", Label).update("Type to search.")
            return
        self._search(query)

    @work(thread=True, exclusive=True, group="search")
    def _search(self, query: str) -> None:
        app = host(self)
        # Past exchanges with papertape are left out unless the kind filter asks for them.
        wants_chat = self.query_one("#kind", Select).value == "chat"
        # Peek: searching as you type must not count as recalling every memory shown.
        hits = app.service.recall(
            query,
            now=app.clock(),
            k=POOL,
            strengthen=False,
            include_chat=wants_chat or None,
        )
        self.post_message(SearchResults(query, hits))

    def _bounds(self) -> tuple[float | None, float | None, str]:
        """The from and to dates as times (None where not given or not a date), and a note
        naming a date that could not be read ("" when none)."""
        found: list[float | None] = []
        unread = []
        for field, name in (("#since", "from"), ("#until", "to")):
            value = self.query_one(field, Input).value.strip()
            try:
                found.append(parse_time(value) if value else None)
            except UserError:
                found.append(None)
                unread.append(name)
        low, high = found
        note = f" The {' and '.join(unread)} date is not a date like 2024-03-01." if unread else ""
        return low, None if high is None else high + 86400, note

    def on_search_results(self, message: SearchResults) -> None:
        if message.query != self.query_one("#query", Input).value.strip():
            return  # a newer search is on its way
        kind = self.query_one("#kind", Select).value
        tier = self.query_one("#tier", Select).value
        low, high, unread = self._bounds()
        filters = Filters(
            None if kind is Select.NULL else str(kind),
            None if tier is Select.NULL else str(tier),
            low,
            high,
        )
        service = host(self).service
        table = self.query_one("#hits", DataTable)
        table.clear()
        shown = 0
        width = max(60, self.app.size.width - OTHER_COLUMNS)  # a wide terminal shows more
        for hit in message.hits:
            memory = hit.memory
            if not filters.passes(service, memory):
                continue
            table.add_row(
                str(memory.id),
                f"{hit.score:.2f}",
                badge(memory.tier, memory.pinned),
                memory.kind,
                day(memory.occurred_at),
                history(hit.replaced_by) + literal(around(memory.text, message.query, width)),
                key=str(memory.id),
            )
            shown += 1
        self.query_one("#recall-status", Label).update(
            f"{shown} of {len(message.hits)} ranked memories match the filters.{unread}"
        )

    @on(DataTable.RowSelected, "#hits")
    def open_hit(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.post_message(MemoryChosen(int(event.row_key.value)))
