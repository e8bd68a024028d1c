"""Which note a question lands on, by embedder (scripts/bench/embedders.py)."""

from __future__ import annotations

from typing import Any

from models.fake_embedder import FakeEmbedder
from scripts.bench.embedders import note_ranks
from tests.bench_support import run_bench


def case(questions: list[dict[str, Any]]) -> dict[str, Any]:
    notes = [
        {"text": "the plumber fixed the kitchen tap for 80 euros"},
        {"text": "my sister flies to lisbon on friday"},
        {"text": "the gym changed its opening hours"},
    ]
    return {"id": "c1", "language": "en", "notes": notes, "questions": questions}


def test_ranks_the_note_holding_the_answer_and_separates_never_noted_topics() -> None:
    questions: list[dict[str, Any]] = [
        {"kind": "stored", "q": "when does my sister fly to lisbon", "answer": ["friday"]},
        {"kind": "stored", "q": "what did the plumber fix", "answer": ["kitchen tap"]},
        {
            "kind": "stored",
            "q": "quand part-elle pour lisbon",
            "answer": ["friday"],
            "q_language": "fr",
        },
        {"kind": "absent_topic", "q": "electricity bill amount"},
    ]
    result = note_ranks(FakeEmbedder(), [case(questions)])
    assert result["ranks"]["same"] == [1, 1]
    assert len(result["ranks"]["other"]) == 1  # the French question is counted apart
    assert result["auc"] == 1.0  # every stored question shares a word with a note; it none


def test_an_unknown_embedder_is_one_sentence() -> None:
    result = run_bench("embedders", "--embedder", "minlm")
    assert result.returncode == 2
    assert "no embedder called 'minlm'" in result.stderr
    assert "Traceback" not in result.stderr
