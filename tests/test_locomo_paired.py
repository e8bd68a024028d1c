"""Paired bootstrap comparison of LoCoMo rows (scripts/bench/locomo_paired.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scripts.bench.locomo_paired import OVERALL, bootstrap_interval, compare


def row(method: str, question: str, f1: float, category: int = 4) -> dict[str, Any]:
    return {
        "conversation": "conv-x",
        "question": question,
        "method": method,
        "category": category,
        "f1": f1,
        "answer": "an answer",
        "reference": "a reference",
    }


def test_a_constant_difference_has_an_interval_of_that_difference_alone() -> None:
    low, high = bootstrap_interval([0.25, 0.25, 0.25], resamples=200, seed=1)
    assert low == pytest.approx(0.25)
    assert high == pytest.approx(0.25)


def test_the_interval_holds_the_mean_and_stays_inside_the_extremes() -> None:
    differences = [1.0, 0.0, 0.0, -0.5, 0.5, 0.0, 1.0, 0.0]
    low, high = bootstrap_interval(differences, resamples=2000, seed=3)
    mean = sum(differences) / len(differences)
    assert -0.5 <= low < mean < high <= 1.0


def test_papertape_is_paired_with_each_method_on_the_questions_both_answered() -> None:
    rows = [
        row("papertape", "q1", 1.0),
        row("papertape", "q2", 0.5),
        row("papertape", "q3", 0.0),
        row("vector", "q1", 0.5),
        row("vector", "q2", 0.5),
        row("vector", "q3", 0.5),
        row("vector", "q4", 1.0),  # papertape did not answer it: left out
    ]
    (result,) = compare(rows, [4], resamples=500, seed=0)
    assert (result.against, result.category, result.questions) == ("vector", "4", 3)
    assert result.subject_f1 == pytest.approx(0.5)
    assert result.other_f1 == pytest.approx(0.5)
    assert result.difference == pytest.approx(0.0)
    assert (result.higher, result.lower) == (1, 1)
    assert result.low < 0 < result.high


def test_one_to_four_pools_categories_and_leaves_adversarial_out() -> None:
    rows = [
        row("papertape", "q1", 1.0, category=1),
        row("papertape", "q2", 0.0, category=2),
        row("papertape", "q3", 1.0, category=5),
        row("vector", "q1", 0.0, category=1),
        row("vector", "q2", 0.0, category=2),
        row("vector", "q3", 0.0, category=5),
    ]
    results = {r.category: r for r in compare(rows, [1, 2, 5], resamples=100, seed=0)}
    assert set(results) == {"1", "2", "5", OVERALL}
    assert results[OVERALL].questions == 2
    assert results[OVERALL].difference == pytest.approx(0.5)
    only_asked = compare(rows, [1], resamples=100, seed=0, overall=False)
    assert [r.category for r in only_asked] == ["1"]


def test_a_question_answered_twice_by_one_method_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from scripts.bench import locomo_paired

    rows = [row("papertape", "q1", 1.0), row("vector", "q1", 0.0)]
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    for path in (first, second):
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    monkeypatch.setattr("sys.argv", ["locomo_paired.py", str(first), str(second)])
    with pytest.raises(SystemExit) as stopped:
        locomo_paired.main()
    assert stopped.value.code == 2
    assert capsys.readouterr().err == (
        "python -m scripts.bench.locomo_paired: papertape answered 'q1' (conv-x) twice; "
        "pool runs of different questions only.\n"
    )
