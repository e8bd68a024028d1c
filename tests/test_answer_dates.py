"""Date marks: an answer that repeats a cited memory's time words ("last week") is shown with
the period they named where they were said (agent/answer/dates.py), in the CLI, as JSON,
over MCP and through the daemon. The model's words are never changed."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from agent.answer.dates import AnswerDate, answer_dates
from agent.cli.mcp import answer_result
from agent.cli.output import answer_marks, ask_json
from agent.daemon.wire import answer_in, answer_out
from storage import Memory, TimeWords
from tests.conftest import memory
from tests.facts_support import episode, make_app, script
from tests.test_times import MON_8_MAY, at


def said(memory_id: int, text: str, occurred_at: float = MON_8_MAY) -> Memory:
    return replace(memory(memory_id, text), occurred_at=occurred_at, ingested_at=occurred_at)


def test_an_answer_repeating_a_cited_memorys_time_words_gets_their_period() -> None:
    moved = said(4, "Ana: we moved to Porto last month.")
    assert answer_dates("Last month", [moved], {4: TimeWords("last month", "month", -1)}) == (
        AnswerDate(4, "last month", "April 2023"),
    )
    # Words the answer does not repeat, or a memory with none: no date.
    assert answer_dates("In April", [moved], {4: TimeWords("last month", "month", -1)}) == ()
    assert answer_dates("last month", [moved], {}) == ()


@pytest.mark.parametrize(
    ("text", "answer", "time", "period"),
    [
        (
            "Lena: Ich bin letzte Woche umgezogen.",
            "letzte Woche",
            ("letzte Woche", "week", -1),
            "week of Mon 1 May 2023",
        ),
        ("妈妈上个月来了。", "她上个月来了", ("上个月", "month", -1), "April 2023"),
    ],
)
def test_answer_dates_read_any_language_alike(
    text: str, answer: str, time: tuple[str, str, int], period: str
) -> None:
    dates = answer_dates(answer, [said(9, text)], {9: TimeWords(*time)})
    assert dates == (AnswerDate(9, time[0], period),)


def test_answer_dates_skip_gists_own_days_and_repeats() -> None:
    times = {1: TimeWords("yesterday", "day", -1), 2: TimeWords("today", "day", 0)}
    gist = said(1, "Ana: dentist")  # cut to a gist: the words are gone
    today = said(2, "Ana: the dentist is today")
    assert answer_dates("yesterday, today", [gist, today], times) == ()
    twice = [said(1, "Ana: dentist yesterday"), said(3, "Bo: yes, yesterday")]
    both = {1: times[1], 3: times[1]}
    assert answer_dates("yesterday", twice, both) == (AnswerDate(1, "yesterday", "Sun 7 May 2023"),)
    later = [twice[0], said(3, "Bo: yesterday", at(2023, 5, 20))]
    assert [d.period for d in answer_dates("yesterday", later, both)] == [
        "Sun 7 May 2023",
        "Fri 19 May 2023",
    ]


def test_ask_marks_the_period_of_relative_words_it_repeats(home: Path) -> None:
    with make_app(home) as app:
        moved, other = episode(app, MON_8_MAY, ["Ana: we moved last month.", "Bo: last month!"])
        app.store.set_time(moved, TimeWords("last month", "month", -1))
        app.store.set_time(other, TimeWords("last month", "year", -1))  # not cited: no mark
        script(app, {"answer": "last month", "memory_ids": [moved], "status": "answered"})
        answer = app.chat(remember=False).ask("When did Ana move?", now=MON_8_MAY + 600)
        assert answer.text == "last month"  # the model's words, unchanged
        assert answer.dates == (AnswerDate(moved, "last month", "April 2023"),)
        assert answer_marks(answer)[0] == f'("last month" in [{moved}]: April 2023)'
        assert ask_json(answer)["dates"] == [
            {"memory_id": moved, "words": "last month", "period": "April 2023"}
        ]
        assert answer_result(answer)["dates"] == ask_json(answer)["dates"]  # over MCP
        assert answer_in(answer_out(answer)) == answer  # through the daemon, field for field
