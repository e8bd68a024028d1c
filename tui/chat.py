"""Chat: ask about your memories; the answer streams in, its memories listed beside it."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Input, Label, ListItem, ListView, Static

from agent.answer.session import Answer
from agent.api import Asker
from agent.cli.output import answer_marks
from agent.daemon.client import HungUp
from agent.errors import Failure, UserError
from tui.badges import badge, day, snippet
from tui.guarded import DAEMON_GONE
from tui.host import host
from tui.messages import AnswerDone, AnswerFailed, AnswerToken, MemoryChosen, StoreChanged


class SourceItem(ListItem):
    def __init__(self, memory_id: int, label: str) -> None:
        super().__init__(Label(label, markup=True))
        self.memory_id = memory_id


class ChatPane(Widget):
    """The conversation on the left, the memories of the last answer on the right."""

    DEFAULT_CSS = """
    ChatPane { layout: vertical; height: 1fr; }
    ChatPane #conversation { height: 1fr; }
    ChatPane #log { width: 2fr; border: round $primary; padding: 0 1; }
    ChatPane #sources-box { width: 1fr; border: round $secondary; }
    ChatPane #sources { height: 1fr; }
    ChatPane .question { color: $accent; margin-top: 1; }
    ChatPane .answer { margin-bottom: 0; }
    ChatPane .note { color: $text-muted; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "toggle_sources", "Memories ↔ question", show=False)
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._session: Asker | None = None
        self._current: Static | None = None
        self._streamed = ""
        self.busy = False

    def compose(self) -> ComposeResult:
        with Horizontal(id="conversation"):
            yield VerticalScroll(
                Static(
                    "Ask about anything you stored. Answers cite memory ids; pick one on the "
                    "right to open it. Start a line with /note to store a note; /continue "
                    "goes on with your last conversation.",
                    classes="note",
                ),
                id="log",
            )
            with Vertical(id="sources-box"):
                yield Label("Memories used", id="sources-title")
                yield ListView(id="sources")
        yield Input(placeholder="Ask your memory…  (Enter to send)", id="question")

    def focus_input(self) -> None:
        self.query_one("#question", Input).focus()

    def action_toggle_sources(self) -> None:
        """Tab jumps between the question box and the memories of the last answer."""
        sources = self.query_one("#sources", ListView)
        if sources.has_focus or not len(sources):
            self.focus_input()
            return
        sources.focus()
        if sources.index is None:
            sources.index = 0

    @on(Input.Submitted, "#question")
    def submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            return
        if self.busy:  # the question stays in the box, to send once the answer is done
            self.notify("An answer is still being written: send this when it is done.")
            return
        event.input.value = ""
        log = self.query_one("#log", VerticalScroll)
        first, _, rest = text.partition(" ")
        command = first.casefold() if first.startswith("/") else None
        if command == "/note":
            if rest.strip():
                self._store_note(rest.strip())
            else:
                self._say("The note is empty: write it after /note.")
            return
        if command == "/continue":
            if rest.strip():
                self._say("/continue takes no words: send it alone, then ask your follow-up.")
                return
            self.busy = True
            self._go_on()
            return
        if command is not None and first[1:].isalpha():  # "/help", "/notes": not a question
            self._say(f"There is no command {first}: /note stores a note, /continue resumes.")
            return
        log.mount(Static(f"You: {text}", classes="question", markup=False))
        self._current = Static("…", classes="answer", markup=False)
        log.mount(self._current)
        log.scroll_end(animate=False)
        self._streamed = ""
        self.busy = True
        self._ask(text)

    @work(thread=True, group="model", exclusive=False)
    def _ask(self, question: str) -> None:
        app = host(self)
        try:
            if self._session is None:
                self.post_message(AnswerToken(""))  # shows the loading line
                self._session = app.service.chat()
            answer = self._session.ask(
                question,
                now=app.clock(),
                on_token=self._token,
            )
        except HungUp:  # mid-answer: the next question opens a session where it can
            self._session = None
            self.post_message(AnswerFailed("the daemon stopped while answering: ask again."))
            return
        except (UserError, Failure) as exc:
            self.post_message(AnswerFailed(str(exc)))
            return
        except DAEMON_GONE:
            self._session = None  # the next question opens one where the service now is
            self.post_message(AnswerFailed("the daemon stopped: ask again to answer here."))
            return
        except Exception as exc:  # a model crash must not take the UI down with it
            self.post_message(AnswerFailed(f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(AnswerDone(answer))

    @work(thread=True, group="model", exclusive=False)
    def _go_on(self) -> None:
        """The next questions go on with the last stored conversation (its questions and
        answers are the history), as `papertape ask --continue` does."""
        app = host(self)
        try:
            name = app.service.last_conversation()
            if name is None:
                said = "There is no stored conversation to continue."
            else:
                self.app.call_from_thread(self._say, "(loading the language model…)")
                self._session = app.service.chat(session=name)
                said = "Going on with your last conversation: ask a follow-up."
        except (UserError, Failure) as exc:
            said = f"papertape could not continue: {exc}"
        self.app.call_from_thread(self._said_after_work, said)

    def _said_after_work(self, text: str) -> None:
        self.busy = False
        self._say(text)

    def _token(self, piece: str) -> None:
        self.post_message(AnswerToken(piece))

    @work(thread=True, group="store")
    def _store_note(self, text: str) -> None:
        app = host(self)
        try:
            result = app.service.note(text, now=app.clock())
        except UserError as exc:
            self.app.call_from_thread(self._say, str(exc))
            return
        self.app.call_from_thread(self._say, f"Stored as memory {result.memory_id}.")
        self.post_message(StoreChanged())

    def _say(self, text: str) -> None:
        log = self.query_one("#log", VerticalScroll)
        log.mount(Static(text, classes="note", markup=False))
        log.scroll_end(animate=False)

    def on_answer_token(self, message: AnswerToken) -> None:
        if self._current is None:
            return
        if not message.text and not self._streamed:
            self._current.update("(loading the language model…)")
            return
        self._streamed += message.text
        self._current.update(f"papertape: {self._streamed}")
        self.query_one("#log", VerticalScroll).scroll_end(animate=False)

    def on_answer_done(self, message: AnswerDone) -> None:
        self.busy = False
        answer: Answer = message.answer
        if self._current is not None:
            cited = ", ".join(f"[{i}]" for i in answer.citations)
            tail = f"\n  cites {cited}" if cited else ""
            marks = "".join(f"\n  {mark}" for mark in answer_marks(answer))
            self._current.update(f"papertape: {answer.text}{tail}{marks}")
        sources = self.query_one("#sources", ListView)
        sources.clear()
        # What the answer cites first, so it is in view without scrolling; the rest after.
        for memory in sorted(answer.memories, key=lambda m: m.id not in answer.citations):
            mark = "*" if memory.id in answer.citations else " "
            label = (
                f"{mark}[b]{memory.id}[/b] {badge(memory.tier, memory.pinned)} {memory.kind} "
                f"{day(memory.occurred_at)}\n  {snippet(memory.text, 40)}"
            )
            sources.append(SourceItem(memory.id, label))
        self.query_one("#sources-title", Label).update(
            f"Memories used ({len(answer.memories)}; * cited)"
        )
        if answer.memory_id is not None:
            self.post_message(StoreChanged())

    def on_answer_failed(self, message: AnswerFailed) -> None:
        self.busy = False
        if self._current is not None:
            self._current.update(f"papertape could not answer: {message.reason}")

    @on(ListView.Selected, "#sources")
    def open_source(self, event: ListView.Selected) -> None:
        if isinstance(event.item, SourceItem):
            self.post_message(MemoryChosen(event.item.memory_id))
