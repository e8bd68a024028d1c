"""The update-detection set and its benchmark (scripts/bench/updates.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.bench.updates import DATA, Row, load_cases, score
from tests.bench_support import run_bench


def test_the_set_holds_updates_and_look_alikes_of_each_kind() -> None:
    cases, said = load_cases(DATA)
    updates = [c for c in cases if c.updates is not None]
    look_alikes = [c for c in cases if c.updates is None]
    assert len(updates) >= 20
    assert len(look_alikes) >= 20
    assert said[0] < said[1]
    kinds = " ".join(c.kind for c in cases)
    for kind in ("moved appointment", "new phone number", "changed address", "cancelled plan"):
        assert kind in kinds
    for kind in ("a second appointment", "a friend's number"):
        assert kind in kinds
    assert len({c.id for c in cases}) == len(cases)


@pytest.mark.parametrize(
    "name", ["updates_heldout.json", "updates_chat.json", "updates_blind2.json"]
)
def test_each_held_out_set_loads_with_distinct_cases_of_both_kinds(name: str) -> None:
    cases, said = load_cases(DATA.parent / name)
    assert said[0] < said[1]
    assert sum(c.updates is not None for c in cases) >= 16
    assert sum(c.updates is None for c in cases) >= 16
    assert len({c.id for c in cases}) == len(cases)
    assert len({c.newer for c in cases}) == len(cases)


def test_a_malformed_set_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(
        '{"said": ["2024-01-01", "2024-01-02"], "cases": '
        '[{"id": "x", "kind": "k", "older": ["a"], "newer": "b", "updates": 3}]}'
    )
    with pytest.raises(ValueError, match="updates is not an index of its older facts"):
        load_cases(bad)


def row(expected: int | None, model: int | None) -> Row:
    return Row("c", "k", expected, (0, 1), model, 0, 0.1)


def test_precision_counts_names_given_and_recall_counts_updates() -> None:
    rows = [row(0, 0), row(1, 0), row(None, 1), row(None, None), row(0, None)]
    model = score(rows, "model")
    assert (model["named"], model["right"], model["updates"]) == (3, 1, 3)
    assert model["precision"] == pytest.approx(1 / 3)
    assert model["recall"] == pytest.approx(1 / 3)
    assert model["look_alikes_named"] == 1
    assert model["look_alikes"] == 2
    nearest = score(rows, "nearest")
    assert nearest["named"] == 5
    assert nearest["right"] == 2


def test_the_script_runs_and_refuses_bad_input(tmp_path: Path) -> None:
    ran = run_bench("updates", "--model", "fake", "--embedder", "fake", "--limit", "4")
    assert ran.returncode == 0, ran.stderr
    assert "precision" in ran.stdout
    assert "cases: 4" in ran.stdout
    missing = run_bench("updates", "--model", "fake", "--data", str(tmp_path / "none.json"))
    assert missing.returncode == 2
    assert missing.stderr.count("\n") == 1
