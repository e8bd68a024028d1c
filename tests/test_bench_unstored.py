"""The never-stored question set and its benchmark (scripts/bench/unstored.py)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from conftest import answer_with

from agent.answer.session import Answer
from scripts.bench.unstored import CASES, HELD_OUT, KINDS, declined, load_cases, right
from tests.bench_support import run_bench


def an_answer(text: str, **marks: Any) -> Answer:
    return answer_with(text, citations=(1,), **marks)


@pytest.mark.parametrize(
    ("path", "languages"),
    [
        (CASES, {"en", "de", "es", "fr", "zh"}),
        (HELD_OUT, {"en", "de", "es", "fr", "zh", "it", "pt"}),
    ],
)
def test_each_set_holds_every_kind_in_its_languages_and_stored_answers_are_in_the_notes(
    path: Path, languages: set[str]
) -> None:
    cases = load_cases(path)
    assert {case["language"] for case in cases} == languages
    kinds = [q["kind"] for case in cases for q in case["questions"]]
    assert all(kinds.count(kind) >= 8 for kind in KINDS)
    assert len({case["id"] for case in cases}) == len(cases)
    for case in cases:
        notes = " ".join(note["text"] for note in case["notes"]).casefold()
        for question in case["questions"]:
            if question["kind"] == "stored":
                assert any(value.casefold() in notes for value in question["answer"])


def test_an_answer_is_declined_by_its_status_or_a_mark_and_the_baseline_drops_one_mark() -> None:
    plain = an_answer("1450 dollars")
    assert not declined(plain, True, about_check=True)
    assert declined(replace(plain, status="not_in_memories"), True, about_check=False)
    off = replace(plain, supported=False, off_question=True)
    assert declined(off, True, about_check=True)
    assert not declined(off, True, about_check=False)  # only the about check marked it
    assert declined(off, False, about_check=False)  # its words are not held either
    assert declined(replace(off, not_of="Dev"), True, about_check=False)
    assert right(plain, {"answer": ["1,450", "1450"]})
    assert not right(plain, {"answer": ["14:30"]})


def test_a_set_that_is_not_one_is_refused_in_a_sentence(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"cases": [{"id": "x", "language": "en", "notes": [], "questions": [{}]}]}')
    result = run_bench("unstored", "--cases", str(bad))
    assert result.returncode == 2
    assert "has a question without q or a kind" in result.stderr
    assert "Traceback" not in result.stderr
