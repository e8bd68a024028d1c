"""Inspector: one memory in full, its links and page, and what can be done with it."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Label, Static, TextArea

from agent.answer.recall import holds_its_words
from agent.api import Memory, MemoryService
from agent.errors import Failure, UserError
from agent.memory.retention import pace, retention
from agent.when import named_period
from tui.badges import badge, literal, moment
from tui.host import host
from tui.messages import MemoryChosen, StoreChanged
from tui.pixels import half_blocks


def _time_words(service: MemoryService, memory: Memory) -> str:
    """The other time the memory's words name, worked out, for the "occurred" line."""
    time = service.time_words(memory.id)
    period = named_period(time, memory.occurred_at) if time is not None else None
    return f'   "{literal(time.words)}": {period}' if time is not None and period else ""


class Confirm(ModalScreen[bool]):
    """Yes or no, defaulting to no."""

    DEFAULT_CSS = """
    Confirm { align: center middle; }
    Confirm > Vertical { width: 60; height: auto; border: thick $error; padding: 1 2; }
    Confirm Horizontal { height: auto; margin-top: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.question)
            with Horizontal():
                yield Button("Yes, forget it (y)", variant="error", id="yes")
                yield Button("No (n)", variant="primary", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class EditText(ModalScreen[str | None]):
    DEFAULT_CSS = """
    EditText { align: center middle; }
    EditText > Vertical { width: 90%; height: 80%; border: thick $primary; padding: 0 1; }
    EditText TextArea { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save"),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Edit the memory's text (ctrl+s saves, escape cancels)")
            yield TextArea(self.text, id="editor")
        yield Footer()

    def on_mount(self) -> None:
        editor = self.query_one("#editor", TextArea)
        editor.move_cursor(editor.document.end)  # most edits add to the end of a note
        editor.focus()

    def action_save(self) -> None:
        self.dismiss(self.query_one("#editor", TextArea).text)

    def action_cancel(self) -> None:
        self.dismiss(None)


class Inspector(ModalScreen[None]):
    DEFAULT_CSS = """
    Inspector { align: center middle; }
    Inspector > VerticalScroll { width: 95%; height: 95%; border: thick $primary; padding: 0 1; }
    Inspector #text { margin: 1 0; }
    Inspector #page-caption { margin-top: 1; }
    Inspector #links { color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close"),
        Binding("p", "pin", "Pin/unpin"),
        Binding("f", "forget", "Forget"),
        Binding("e", "edit", "Edit"),
        Binding("o", "read_back", "Read page (OCR)"),
        Binding("l", "follow", "Open first link"),
        Binding("c", "current", "Not an update"),
    ]

    def __init__(self, memory_id: int) -> None:
        super().__init__()
        self.memory_id = memory_id
        self.memory: Memory | None = None
        self.linked: list[int] = []

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(id="head")
            yield Static(id="text")
            yield Static(id="page-caption")
            yield Static(id="page")
            yield Static(id="links")
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_memory()

    def refresh_memory(self) -> None:
        service = host(self).service
        try:
            memory = service.memory(self.memory_id)
        except UserError:
            self.dismiss(None)
            return
        self.memory = memory
        now = host(self).clock()
        pin = "  [b]pinned[/b]" if memory.pinned else ""
        newer = service.replaced_by(memory.id)
        updated = (
            f"history     updated by #{newer} (c: not an update, current again)\n"
            if newer is not None
            else ""
        )
        self.query_one("#head", Static).update(
            f"[b]Memory {memory.id}[/b]  {badge(memory.tier)} {memory.kind}{pin}\n{updated}"
            f"source      {memory.source}\n"
            f"occurred    {moment(memory.occurred_at)}{_time_words(service, memory)}\n"
            f"ingested    {moment(memory.ingested_at)}\n"
            f"importance  {memory.importance:.2f}   strength {memory.strength:.1f} days "
            f"x{pace(memory.kind):g} ({memory.kind})   "
            f"retention now {retention(memory, now):.2f}\n"
            f"recalled    {memory.recall_count} times, last {moment(memory.last_recalled_at)}"
        )
        # A faded memory may still hold its words whole (they leave only for room).
        label = "Text" if memory.tier == "sharp" or holds_its_words(memory) else "Gist"
        self.query_one("#text", Static).update(f"[b]{label}[/b]\n{literal(memory.text)}")
        page = service.page(memory.id)
        caption = self.query_one("#page-caption", Static)
        if page is None:
            caption.update("")
            self.query_one("#page", Static).update("")
        else:
            hint = "  (o reads it back)" if page.role == "page" else ""
            caption.update(
                f"[b]{page.role.capitalize()}[/b] {page.media_type}, {len(page.data):,} bytes{hint}"
            )
            self.query_one("#page", Static).update(half_blocks(page.data))
        links = service.links(memory.id)
        self.linked = []
        lines = []
        for link in links:
            other = link.to_id if link.from_id == memory.id else link.from_id
            direction = "->" if link.from_id == memory.id else "<-"
            lines.append(f"{direction} {link.relation} {other}")
            self.linked.append(other)
        self.query_one("#links", Static).update(
            "[b]Links[/b] (l opens the first)\n" + "\n".join(lines) if lines else "No links."
        )

    def action_close(self) -> None:
        self.dismiss(None)

    def action_pin(self) -> None:
        if self.memory is None:
            return
        host(self).service.set_pinned([self.memory.id], not self.memory.pinned)
        self.post_message(StoreChanged())
        self.refresh_memory()

    def action_current(self) -> None:
        """A fact papertape took as updated by a newer one by mistake is current again."""
        if self.memory is None:
            return
        newer = host(self).service.restore_current([self.memory.id])[self.memory.id]
        if not newer:
            self.app.notify("No newer fact updates this memory: it is current already.")
            return
        self.post_message(StoreChanged())
        self.app.notify(f"Memory {self.memory.id} is current again.")
        self.refresh_memory()

    def action_forget(self) -> None:
        if self.memory is None:
            return

        def decided(yes: bool | None) -> None:
            if yes:
                host(self).service.forget([self.memory_id])
                self.app.post_message(StoreChanged())
                self.app.notify(f"Memory {self.memory_id} forgotten for good.")
                self.dismiss(None)

        self.app.push_screen(
            Confirm(f"Forget memory {self.memory_id} for good? It cannot be undone."), decided
        )

    def action_edit(self) -> None:
        if self.memory is None:
            return
        if self.memory.tier != "sharp" or self.memory.kind == "document":
            kind = f"{self.memory.tier} {self.memory.kind}"
            self.app.notify(f"Only a sharp memory's own text can be edited; this is a {kind}.")
            return

        def edited(text: str | None) -> None:
            if text is None:
                return
            try:
                host(self).service.edit(self.memory_id, text)
            except (UserError, Failure) as exc:
                self.app.notify(str(exc), severity="error")
                return
            self.app.post_message(StoreChanged())
            self.refresh_memory()

        self.app.push_screen(EditText(self.memory.text), edited)

    def action_read_back(self) -> None:
        if self.memory is None:
            return
        if host(self).service.page(self.memory.id) is None:
            self.app.notify("This memory has no page to read back: only hazy summaries do.")
            return
        self.query_one("#text", Static).update("[b]Reading the page back…[/b]")
        self._read_back()

    @work(thread=True, group="model")
    def _read_back(self) -> None:
        service = host(self).service
        try:
            text = service.read_back(service.memory(self.memory_id))
        except (UserError, Failure) as exc:
            text = f"could not read the page: {exc}"
        self.app.call_from_thread(
            self.query_one("#text", Static).update,
            f"[b]Read back from the page (OCR, may hold errors)[/b]\n{literal(text or '')}",
        )

    def action_follow(self) -> None:
        if self.linked:
            self.app.post_message(MemoryChosen(self.linked[0]))
        else:
            self.app.notify("This memory has no links to open.")
