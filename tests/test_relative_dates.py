"""Relative dates pinned to the calendar from the memory's own date."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agent.relative_dates import pin_dates, pinned_dates
from agent.service import Papertape

MONDAY = datetime(2023, 5, 8, 13, 56, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("text", "pinned"),
    [
        ("went yesterday", "went yesterday [7 May 2023]"),
        ("tomorrow then", "tomorrow [9 May 2023] then"),
        ("last Saturday it rained", "last Saturday [6 May 2023] it rained"),
        ("last Monday", "last Monday [1 May 2023]"),  # said on a Monday: a week back
        ("see you next Friday", "see you next Friday [12 May 2023]"),
        ("this weekend", "this weekend [weekend of 13 May 2023]"),
        ("last month", "last month [April 2023]"),
        ("two weeks ago", "two weeks ago [week of 24 April 2023]"),
        ("3 days ago", "3 days ago [5 May 2023]"),
        ("a couple of years ago", "a couple of years ago [2021]"),
        ("next year", "next year [2024]"),
        ("nothing relative here, on 3 May", "nothing relative here, on 3 May"),
    ],
)
def test_pinned_by_hand(text: str, pinned: str) -> None:
    assert pin_dates(text, MONDAY) == pinned
    assert pin_dates(pinned, MONDAY) == pinned  # pinning twice changes nothing


def test_the_dates_pinned_in_a_text_are_read_back() -> None:
    text = pin_dates("Two weeks ago we moved; next year we travel [shares an image]", MONDAY)
    assert pinned_dates(text) == ["week of 24 April 2023", "2024"]
    assert pinned_dates("Meet at [3] on 3 May [in the garden]") == []


def test_a_note_keeps_the_date_it_meant(app: Papertape) -> None:
    result = app.note("Went to the support group yesterday.", now=MONDAY, occurred_at=MONDAY)
    memory = app.store.get(result.memory_id)  # type: ignore[arg-type]
    assert memory is not None and memory.text == "Went to the support group yesterday [7 May 2023]."
    hits = app.recall("what happened on 7 May 2023", now=MONDAY, strengthen=False)
    assert hits[0].memory.id == memory.id
