"""The time-words set and its benchmark (scripts/bench/time_words.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scripts.bench.time_words import DATA, chat_cases, score
from storage import TIME_UNITS
from tests.bench_support import run_bench


def test_the_set_holds_timed_and_plain_lines_in_three_languages() -> None:
    cases = json.loads(DATA.read_text(encoding="utf-8"))["cases"]
    assert len({c["id"] for c in cases}) == len(cases)
    timed = [c for c in cases if c["expect"] is not None]
    assert len(timed) >= 20
    assert len(cases) - len(timed) >= 10
    for case in timed:
        assert case["expect"]["words"] in case["text"], case["id"]
        assert case["expect"]["unit"] in TIME_UNITS
        assert case["expect"]["offset"] != 0
    assert {c["id"][:2] for c in timed} == {"en", "de", "zh"}
    assert {c["expect"]["offset"] > 0 for c in timed} == {True, False}


def row(expect: int | None, got: int | None, right: bool) -> dict[str, object]:
    def words(offset: int | None) -> dict[str, object] | None:
        return None if offset is None else {"words": "w", "unit": "day", "offset": offset}

    return {"expect": words(expect), "papertape": words(got), "papertape_period_right": right}


def test_the_score_counts_found_direction_period_and_plain_lines() -> None:
    rows = [row(-1, -1, True), row(-1, 1, False), row(2, None, False), row(None, None, False)]
    rows += [row(None, 3, False)]
    result = score(rows, "papertape")
    assert (result["timed"], result["plain"]) == (3, 2)
    assert result["found"] == pytest.approx(2 / 3)
    assert result["direction"] == pytest.approx(1 / 2)
    assert result["same_period"] == pytest.approx(1 / 3)
    assert result["left_alone"] == pytest.approx(1 / 2)


def test_the_script_runs_and_refuses_bad_input(tmp_path: Path) -> None:
    small = tmp_path / "small.json"
    cases = json.loads(DATA.read_text(encoding="utf-8"))["cases"]
    small.write_text(json.dumps({"cases": cases[:2] + cases[-1:]}), encoding="utf-8")
    ran = run_bench("time_words", "--model", "fake", "--embedder", "fake", "--data", str(small))
    assert ran.returncode == 0, ran.stderr
    assert "3 cases" in ran.stdout
    assert "| papertape |" in ran.stdout
    missing = run_bench("time_words", "--model", "fake", "--data", str(tmp_path / "none.json"))
    assert missing.returncode == 2
    assert missing.stderr.count("\n") == 1


def tiny_chat(path: Path) -> Path:
    turns = [
        {"speaker": "Ann", "dia_id": "D1:1", "text": "I adopted a cat yesterday."},
        {"speaker": "Bo", "dia_id": "D1:2", "text": "Lovely! What is her name?"},
        {"speaker": "Ann", "dia_id": "D1:3", "text": "Pixel. We move house next week."},
        {"speaker": "Bo", "dia_id": "D1:4", "text": "Good luck with the boxes."},
    ]
    questions = [
        {"question": "When did Ann adopt a cat?", "answer": "7 May", "category": 2,
         "evidence": ["D1:1"]},
        {"question": "When does Ann move?", "answer": "next week", "category": 2,
         "evidence": ["D1:3"]},
        {"question": "What is the cat called?", "answer": "Pixel", "category": 4,
         "evidence": ["D1:3"]},
    ]  # fmt: skip
    sample = {
        "sample_id": "conv-t",
        "conversation": {"session_1_date_time": "1:56 pm on 8 May, 2023", "session_1": turns},
        "qa": questions,
    }
    path.write_text(json.dumps([sample]), encoding="utf-8")
    return path


def test_chat_lines_are_drawn_from_when_questions_evidence_and_from_the_rest(
    tmp_path: Path,
) -> None:
    cases = chat_cases(tiny_chat(tmp_path / "chat.json"), turns=5, seed=1)
    groups = {c["id"]: c["group"] for c in cases}
    assert groups == {
        "conv-t:D1:1": "when evidence",
        "conv-t:D1:3": "when evidence",
        "conv-t:D1:2": "other turn",
        "conv-t:D1:4": "other turn",
    }
    assert all(c["expect"] is None for c in cases)
    assert next(c for c in cases if c["id"] == "conv-t:D1:1")["text"].startswith("Ann: ")
    (one, other) = chat_cases(tmp_path / "chat.json", turns=1, seed=1)
    assert (one["group"], other["group"]) == ("when evidence", "other turn")


def test_the_script_reads_chat_lines_beside_the_set(tmp_path: Path) -> None:
    small = tmp_path / "small.json"
    cases = json.loads(DATA.read_text(encoding="utf-8"))["cases"]
    small.write_text(json.dumps({"cases": cases[:1]}), encoding="utf-8")
    chat = tiny_chat(tmp_path / "chat.json")
    args = ("--model", "fake", "--embedder", "fake", "--data", str(small), "--chat", str(chat))
    ran = run_bench("time_words", *args, "--turns", "2")
    assert ran.returncode == 0, ran.stderr
    assert "5 cases" in ran.stdout
    assert "chat lines, when evidence: time words kept for" in ran.stdout
    assert " of 2 (baseline " in ran.stdout
    bad = run_bench("time_words", *args, "--turns", "0")
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1
