"""Leaving the terminal UI: Ctrl+Q from any screen, and mid-answer at once (tui/main.py
leaves without waiting for the model's thread); a daemon hanging up mid-answer."""

from __future__ import annotations

import json

from agent.daemon.client import HungUp
from agent.service import Papertape
from models.fake_generator import ScriptedGenerator
from tests.test_tui import answering, chat_log, service, settle, ui
from tui.chat import ChatPane
from tui.inspector import Confirm, EditText, Inspector

__all__ = ["service"]  # the fixture, shared with tests/test_tui.py


async def test_ctrl_q_quits_from_the_inspector_and_its_dialogs(service: Papertape) -> None:
    for dialog in ("", "e", "f"):
        app = ui(service)
        async with app.run_test(size=(100, 30)) as pilot:
            app.push_screen(Inspector(3))
            await settle(app, pilot)
            if dialog:
                await pilot.press(dialog)
                await settle(app, pilot)
                assert isinstance(app.screen, EditText if dialog == "e" else Confirm)
            await pilot.press("ctrl+q")
            await settle(app, pilot)
            assert app._exit, f"still open after ctrl+q in {type(app.screen).__name__}"
        assert service.store.get(3) is not None  # quitting a dialog forgot nothing


async def test_the_app_knows_an_answer_is_still_being_written_when_it_quits(
    service: Papertape,
) -> None:
    # tui/main.py leaves at once when it is (Python would wait for the model's thread).
    reply = {"answer": "At the bakery on the corner " * 8, "memory_ids": [1], "status": "answered"}
    service._generator = ScriptedGenerator([json.dumps(reply)], delay_s=0.05)
    app = ui(service)
    async with app.run_test(size=(100, 30)) as pilot:
        assert not app.answering
        await pilot.press(*"where is the bakery", "enter")
        await pilot.pause(0.3)
        assert app.answering
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert app.answering  # quit mid-answer
    await app.workers.wait_for_complete()
    done = answering(service, "At the bakery.", [1], "answered")
    async with done.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"where is the bakery", "enter")
        await settle(done, pilot)
        assert not done.answering


async def test_a_daemon_hanging_up_mid_answer_is_said_once_and_the_next_question_answers(
    service: Papertape,
) -> None:
    class HangingUp:
        def ask(self, *args: object, **kwargs: object) -> None:
            raise HungUp("the daemon closed the connection without an answer")

    app = answering(service, "At the bakery.", [1], "answered")
    async with app.run_test(size=(100, 30)) as pilot:
        pane = app.query_one(ChatPane)
        pane._session = HangingUp()  # type: ignore[assignment]
        await pilot.press(*"where is the bakery", "enter")
        await settle(app, pilot)
        assert "the daemon stopped while answering: ask again." in chat_log(app)
        await pilot.press(*"where is the bakery", "enter")
        await settle(app, pilot)
        assert "papertape: At the bakery." in chat_log(app)
