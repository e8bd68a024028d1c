"""The terminal UI, driven by Textual's Pilot against a real store in a temporary home.

The language model is the scripted fake (it quotes the first memory it is shown); storage,
recall, consolidation and OCR are real.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.content import Content
from textual.widgets import DataTable, Input, Label, ListView, Select, Static, TabbedContent

from agent.ingest.notes import NoteInput
from agent.memory.retention import DAY
from agent.service import Papertape
from agent.settings import load_settings
from models.fake_embedder import FakeEmbedder
from models.fake_generator import ScriptedGenerator
from tests.conftest import NOW, distil
from tui.app import PapertapeApp
from tui.chat import SourceItem
from tui.inspector import Confirm, EditText, Inspector
from tui.screens import WELCOME, HelpScreen, WelcomeScreen
from tui.timeline import PAGE, TimelinePane

NOTES = [
    "The spare key is under the blue flowerpot by the shed.",
    "Maria's birthday is on 12 June; she likes orchids.",
    "Booked the ferry to Skye for the 3rd of August.",
]


def make_service(home: Path) -> Papertape:
    # Gists shorter than the notes, so a hazy note's words leave for a page and a gist.
    overrides = {"embedder": "fake", "summarizer": "extractive", "gist_chars": 32}
    settings = load_settings(home, overrides=overrides)
    return Papertape(settings, embedder=FakeEmbedder(), generator=ScriptedGenerator())


@pytest.fixture
def service(home: Path) -> Iterator[Papertape]:
    with make_service(home) as papertape:
        for offset, text in enumerate(NOTES):
            papertape.note(text, now=NOW + offset * 3600, occurred_at=NOW + offset * 3600)
        yield papertape


def ui(service: Papertape, now: float = NOW + DAY) -> PapertapeApp:
    return PapertapeApp(service, clock=lambda: now)


def answering(service: Papertape, answer: str, ids: list[int], status: str) -> PapertapeApp:
    """The UI over `service`, whose model gives this one reply."""
    reply = {"answer": answer, "memory_ids": ids, "status": status}
    service._generator = ScriptedGenerator([json.dumps(reply)])
    return ui(service)


async def settle(app: PapertapeApp, pilot) -> None:
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


def text_of(app: PapertapeApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def chat_log(app: PapertapeApp) -> str:
    return " ".join(str(w.render()) for w in app.query("#log Static"))


async def test_first_run_shows_the_welcome_screen(home: Path) -> None:
    with make_service(home) as empty:
        app = ui(empty)
        async with app.run_test(size=(80, 24)) as pilot:
            assert isinstance(app.screen, WelcomeScreen)
            await pilot.press("enter")
            assert not isinstance(app.screen, WelcomeScreen)
            assert isinstance(app.focused, Input)
            assert app.focused.id == "question"
        # The app's keys work from the welcome too: they close it and do what they say.
        app = ui(empty)
        async with app.run_test(size=(50, 12)) as pilot:
            assert "Enter** or **Escape** to begin" in WELCOME.splitlines()[0]
            await pilot.press("f4")
            await settle(app, pilot)
            assert not isinstance(app.screen, WelcomeScreen)
            assert app.query_one(TabbedContent).active == "timeline"
        app = ui(empty)
        async with app.run_test(size=(50, 12)) as pilot:
            await pilot.press("ctrl+q")
            await pilot.pause()
            assert app._exit  # quitting, welcome and all


async def test_chat_answers_lists_memories_and_opens_one(service: Papertape) -> None:
    app = ui(service)
    async with app.run_test(size=(100, 30)) as pilot:
        assert not isinstance(app.screen, WelcomeScreen)
        await pilot.press(*"where is the spare key?", "enter")
        await settle(app, pilot)
        log = chat_log(app)
        assert "You: where is the spare key?" in log
        assert "flowerpot" in log
        assert "cites [1]" in log
        sources = app.query_one("#sources", ListView)
        assert len(sources) >= 1
        sources.focus()
        sources.index = 0
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, Inspector)
        assert app.screen.memory_id == 1
        assert "flowerpot" in text_of(app, "#text")
        await pilot.press("escape")
        # The exchange was stored as a chat memory linked to what it cited.
        chats = [m for m in service.store.iter_memories() if m.kind == "chat"]
        assert len(chats) == 1


async def test_the_memories_an_answer_cites_are_listed_first(service: Papertape) -> None:
    app = answering(service, "3 August.", [3], "answered")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"when is the ferry to skye?", "enter")
        await settle(app, pilot)
        sources = app.query_one("#sources", ListView)
        assert len(sources) == len(NOTES)
        assert next(item.memory_id for item in sources.query(SourceItem)) == 3


async def test_chat_marks_a_guess_as_one(service: Papertape) -> None:
    app = answering(service, "Sunflowers, most likely.", [], "guess")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"what flowers might Maria like for her birthday?", "enter")
        await settle(app, pilot)
        log = chat_log(app)
        assert "papertape: Sunflowers, most likely." in log
        assert "(a guess: your memories do not state it)" in log


async def test_chat_note_command_stores_a_note(service: Papertape) -> None:
    app = ui(service)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"/note the gate code is 4411", "enter")
        await settle(app, pilot)
        assert any("4411" in m.text for m in service.store.iter_memories())
        log = chat_log(app)
        assert "Stored as memory 4" in log
        await pilot.press(*"/note ", "enter")  # nothing after it: not a question either
        await settle(app, pilot)
        assert "The note is empty: write it after /note." in chat_log(app)
        assert service.store.count() == 4
        await pilot.press(*"/NOTE the shed code is 9034", "enter")  # a command in any case
        await settle(app, pilot)
        assert any("9034" in m.text for m in service.store.iter_memories())
        await pilot.press(*"/notes about the shed", "enter")  # no such command: not asked
        await settle(app, pilot)
        assert "There is no command /notes" in chat_log(app)
        assert "You: /notes" not in chat_log(app)
        assert service.store.count() == 5


async def test_chat_continue_goes_on_with_the_last_conversation(service: Papertape) -> None:
    app = ui(service)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"/continue", "enter")
        await settle(app, pilot)
        assert "There is no stored conversation to continue." in chat_log(app)
    first = service.chat(session="ferry").ask("When is the ferry to Skye?", now=NOW + DAY)
    app = ui(service)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"/continue", "enter")
        await settle(app, pilot)
        assert "Going on with your last conversation" in chat_log(app)
        await pilot.press(*"and from where?", "enter")
        await settle(app, pilot)
    generator = service.generator()
    assert isinstance(generator, ScriptedGenerator)
    assert "When is the ferry to Skye?" in generator.prompts[-1]  # the history, in the prompt
    assert first.text in generator.prompts[-1]
    turns = [m for m in service.store.iter_memories() if m.source == "chat:ferry"]
    assert len(turns) == 2


async def test_recall_searches_as_you_type_and_filters(service: Papertape) -> None:
    service.consolidate(now=NOW + 48 * DAY)  # all three go hazy, with a summary
    app = ui(service, now=NOW + 48 * DAY)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f3")
        assert app.focused is not None
        assert app.focused.id == "query"
        await pilot.press(*"birthday orchids")
        await settle(app, pilot)
        table = app.query_one("#hits", DataTable)
        ids = [int(str(table.get_row_at(i)[0])) for i in range(table.row_count)]
        assert ids
        assert ids[0] in (2, 4)
        app.query_one("#kind", Select).value = "summary"
        await settle(app, pilot)
        kinds = {str(table.get_row_at(i)[3]) for i in range(table.row_count)}
        assert kinds == {"summary"}
        app.query_one("#kind", Select).value = Select.NULL
        app.query_one("#since", Input).value = "2030-01-01"
        await settle(app, pilot)
        assert table.row_count == 0
        app.query_one("#since", Input).value = "notadate"  # not applied, and said so
        await settle(app, pilot)
        assert table.row_count > 0
        assert "The from date is not a date" in text_of(app, "#recall-status")


async def test_recall_and_the_inspector_mark_a_memory_a_newer_fact_updated(
    service: Papertape,
) -> None:
    moved = service.note("The ferry to Skye moved to the 5th of August.", now=NOW + DAY)
    assert moved.memory_id is not None
    with service.store.transaction():
        service.store.link(moved.memory_id, 3, "supersedes")
    app = ui(service, now=NOW + 2 * DAY)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("f3", *"ferry Skye")
        await settle(app, pilot)
        table = app.query_one("#hits", DataTable)
        texts = {
            int(str(table.get_row_at(i)[0])): str(table.get_row_at(i)[5])
            for i in range(table.row_count)
        }
        assert texts[3].startswith(f"[i]history: updated by #{moved.memory_id}[/i]")
        assert "history" not in texts[moved.memory_id]
        app.push_screen(Inspector(3))
        await settle(app, pilot)
        assert f"history     updated by #{moved.memory_id}" in text_of(app, "#head")
        await pilot.press("c")  # not an update: current again
        await settle(app, pilot)
        assert "history" not in text_of(app, "#head")
        assert service.replaced_by(3) is None


async def test_each_tab_key_works_from_every_tab(service: Papertape) -> None:
    app = ui(service)
    async with app.run_test(size=(100, 30)) as pilot:
        for first in ("f2", "f3", "f4", "f5"):
            for then, tab in (
                ("f2", "chat"),
                ("f3", "recall"),
                ("f4", "timeline"),
                ("f5", "status"),
            ):
                await pilot.press(first, then)
                await settle(app, pilot)
                assert app.query_one(TabbedContent).active == tab, (first, then)


async def test_timeline_pages_back_as_you_scroll(home: Path) -> None:
    with make_service(home) as papertape:
        papertape.note_many(
            [NoteInput(f"note number {i}", NOW + i * 3600) for i in range(PAGE + 30)], now=NOW
        )
        app = ui(papertape)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("escape")
            await pilot.press("f4")
            await settle(app, pilot)
            pane = app.query_one(TimelinePane)
            assert pane.loaded == PAGE
            table = app.query_one("#days", DataTable)
            assert "──" in str(table.get_row_at(0)[0])  # a day header first
            assert str(table.get_row_at(1)[3]) == str(PAGE + 30)  # the newest memory
            table.move_cursor(row=table.row_count - 1)
            await settle(app, pilot)
            assert pane.loaded == PAGE + 30


async def test_the_timeline_shows_what_came_in_from_elsewhere_when_it_is_opened(
    service: Papertape,
) -> None:
    app = ui(service)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f4")
        await settle(app, pilot)
        await pilot.press("f2")
        # Stored by another command (or the daemon) while the window is open.
        later = service.note("Bought a teal umbrella", now=NOW + DAY).memory_id
        await pilot.press("f4")
        await settle(app, pilot)
        table = app.query_one("#days", DataTable)
        assert str(table.get_row_at(1)[3]) == str(later)  # the newest, under its day


async def test_brackets_in_a_note_are_shown_as_written_not_read_as_styling(
    service: Papertape,
) -> None:
    text = "Shopping list [/] milk [b]eggs and [red]bread"
    memory_id = service.note(text, now=NOW + DAY).memory_id
    assert memory_id is not None
    app = answering(service, "Milk, eggs and bread.", [memory_id], "answered")
    async with app.run_test(size=(120, 30)) as pilot:  # it used to crash on opening
        await pilot.press(*"shopping list", "enter")
        await settle(app, pilot)
        label = app.query_one("#sources", ListView).query(Label).first()
        assert text[:30] in str(label.render())  # cut to the list's width
        for key, table in (("f4", "#days"), ("f3", "#hits")):
            await pilot.press(key, *("shopping" if key == "f3" else ""))
            await settle(app, pilot)
            rows = app.query_one(table, DataTable)
            cells = [c for r in range(rows.row_count) for c in rows.get_row_at(r)]
            assert text in [Content.from_markup(str(c)).plain for c in cells], key


async def test_the_lists_mark_what_is_pinned(service: Papertape) -> None:
    service.set_pinned([3], True)
    app = ui(service)
    async with app.run_test(size=(120, 30)) as pilot:
        for key, table, id_column, tier_column in (("f4", "#days", 3, 1), ("f3", "#hits", 0, 2)):
            await pilot.press(key, *("ferry Skye" if key == "f3" else ""))
            await settle(app, pilot)
            rows = app.query_one(table, DataTable)
            tiers = {
                str(rows.get_row_at(r)[id_column]): Content.from_markup(
                    str(rows.get_row_at(r)[tier_column])
                )
                for r in range(rows.row_count)
            }
            pinned = {memory_id for memory_id, tier in tiers.items() if "pinned" in tier.plain}
            assert pinned == {"3"}, key


async def test_a_wide_terminal_shows_more_of_each_memory(service: Papertape) -> None:
    long = "The lease runs from June to May; the rent is 900 a month, due on the first; " * 2
    service.note(long, now=NOW + DAY)
    for size, most in (((100, 30), 60), ((160, 30), 120)):
        app = ui(service)
        async with app.run_test(size=size) as pilot:
            await pilot.press("f4")
            await settle(app, pilot)
            rows = app.query_one("#days", DataTable)
            texts = [
                Content.from_markup(str(rows.get_row_at(r)[4])).plain for r in range(rows.row_count)
            ]
            assert max(len(text) for text in texts) == most, size


async def test_inspector_pins_edits_and_forgets(service: Papertape) -> None:
    app = ui(service)
    async with app.run_test(size=(100, 30)) as pilot:
        app.push_screen(Inspector(3))
        await settle(app, pilot)
        assert "retention now" in text_of(app, "#head")
        await pilot.press("o", "l", "c")  # none applies to a plain note: each says so
        said = [n.message for n in app._notifications]
        assert any("no page to read back" in m for m in said)
        assert any("no links to open" in m for m in said)
        assert any("current already" in m for m in said)
        await pilot.press("p")
        assert service.memory(3).pinned
        assert "pinned" in text_of(app, "#head")
        before = service.memory(3).text
        await pilot.press("e")
        assert isinstance(app.screen, EditText)
        await pilot.press(*" Paid.", "ctrl+s")  # typed where the cursor starts: the end
        await settle(app, pilot)
        assert service.memory(3).text == before + " Paid."
        await pilot.press("e")
        assert isinstance(app.screen, EditText)
        editor = app.screen.query_one("#editor")
        editor.text = "Booked the ferry to Skye for the 4th of August."  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert service.memory(3).text.endswith("4th of August.")
        await pilot.press("f")
        assert isinstance(app.screen, Confirm)
        await pilot.press("n")
        assert service.store.get(3) is not None
        await pilot.press("f", "y")
        await settle(app, pilot)
        assert service.store.get(3) is None
        assert not isinstance(app.screen, Inspector)


@pytest.mark.needs("rapidocr")
async def test_inspector_shows_a_hazy_page_and_reads_it_back(service: Papertape) -> None:
    distil(service, [1, 2, 3], "A key, a birthday and a ferry.")  # their words may leave
    (summary_id,) = service.consolidate(now=NOW + 48 * DAY).summaries
    summary = service.store.get(summary_id)
    assert summary is not None
    app = ui(service, now=NOW + 48 * DAY)
    async with app.run_test(size=(100, 40)) as pilot:
        app.push_screen(Inspector(summary_id))
        await settle(app, pilot)
        assert "hazy" in text_of(app, "#head")
        assert "image/png" in text_of(app, "#page-caption")
        assert "▀" in text_of(app, "#page")
        assert "Links" in text_of(app, "#links")
        assert "summarizes" in text_of(app, "#links")
        await pilot.press("e")  # said at once, not after typing into an editor
        assert isinstance(app.screen, Inspector)
        assert any("this is a hazy summary" in n.message for n in app._notifications)
        await pilot.press("o")
        await settle(app, pilot)
        back = text_of(app, "#text")
        assert "Read back" in back
        # OCR of an 8 px page is close, not perfect: look for a long run of the summary.
        run = difflib.SequenceMatcher(None, summary.text, back).find_longest_match()
        assert run.size >= 20, back


async def test_status_shows_tiers_and_help_lists_keys(service: Papertape) -> None:
    app = ui(service)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("f5")
        await settle(app, pilot)
        status = text_of(app, "#status-text")
        assert "3 memories" in status
        assert "sharp" in status
        assert "daemon" in status
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
