"""SVG snapshots of each screen at 80x24 on a fixed clock and store (pytest-textual-snapshot).

After a deliberate change to the UI: pytest tests/test_tui_snapshots.py --snapshot-update,
then look at the SVGs in the report before committing them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.memory.retention import DAY
from agent.service import Papertape
from tests.conftest import NOW, distil
from tests.test_tui import NOTES, make_service, settle
from tui.app import PapertapeApp
from tui.inspector import Inspector


async def still(app: PapertapeApp, pilot) -> None:
    """Wait for the workers, and stop the text cursors blinking, so a snapshot is stable."""
    for field in app.query("Input"):
        field.cursor_blink = False  # type: ignore[attr-defined]
    await settle(app, pilot)


SIZE = (80, 24)


@pytest.fixture
def snap_app(home: Path):
    service = make_service(home)
    for offset, text in enumerate(NOTES):
        service.note(text, now=NOW + offset * 3600, occurred_at=NOW + offset * 3600)
    distil(service, [1, 2, 3], "A key, a birthday and a ferry.")  # their words may leave
    service.consolidate(now=NOW + 48 * DAY)
    service.note("Renew the passport before the Skye trip.", now=NOW + 56 * DAY)
    yield PapertapeApp(service, clock=lambda: NOW + 57 * DAY)
    service.close()


def test_chat_snapshot(snap_compare, snap_app) -> None:
    async def ask(pilot) -> None:
        await pilot.press(*"passport", "enter")
        await still(snap_app, pilot)

    assert snap_compare(snap_app, terminal_size=SIZE, run_before=ask)


def test_recall_snapshot(snap_compare, snap_app) -> None:
    async def search(pilot) -> None:
        await pilot.press("f3", *"skye ferry")
        await still(snap_app, pilot)

    assert snap_compare(snap_app, terminal_size=SIZE, run_before=search)


def test_timeline_snapshot(snap_compare, snap_app) -> None:
    async def open_timeline(pilot) -> None:
        await pilot.press("f4")
        await still(snap_app, pilot)

    assert snap_compare(snap_app, terminal_size=SIZE, run_before=open_timeline)


def test_inspector_snapshot(snap_compare, snap_app) -> None:
    # The first episode's summary: hazy, with its page drawn in the terminal.
    (summary_id,) = {
        link.from_id for link in snap_app.service.store.links_to(1) if link.relation == "summarizes"
    }

    async def inspect(pilot) -> None:
        snap_app.push_screen(Inspector(summary_id))
        await still(snap_app, pilot)

    assert snap_compare(snap_app, terminal_size=SIZE, run_before=inspect)


def test_help_snapshot(snap_compare, snap_app) -> None:
    async def help_screen(pilot) -> None:
        await pilot.press("f1")
        await still(snap_app, pilot)

    assert snap_compare(snap_app, terminal_size=SIZE, run_before=help_screen)


def test_welcome_snapshot(snap_compare, tmp_path: Path) -> None:
    service: Papertape = make_service(tmp_path / "empty")
    try:
        app = PapertapeApp(service, clock=lambda: NOW)

        async def welcome(pilot) -> None:
            await still(app, pilot)

        assert snap_compare(app, terminal_size=SIZE, run_before=welcome)
    finally:
        service.close()
