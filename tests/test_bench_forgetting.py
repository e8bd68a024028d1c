"""The forgetting benchmark's measure (scripts/bench/forgetting.py): logic only, no model."""

from __future__ import annotations

from agent.service import Papertape
from scripts.bench.forgetting import answer_words, first_sessions, score
from scripts.bench.locomo_data import Conversation, Question, Turn
from tests.conftest import NOW


def test_answer_words_are_stemmed_and_leave_out_stopwords() -> None:
    assert answer_words("She was painting the sunrises in May") == {"paint", "sunris", "may"}
    assert answer_words("the and of") == set()


def test_first_sessions_keeps_the_questions_they_answer() -> None:
    turns = tuple(Turn(f"D{s}:1", s, f"A: turn {s}", NOW + s) for s in (1, 2, 3))
    questions = (
        Question("in one?", "x", 1, ("D1:1",)),
        Question("in one and three?", "y", 1, ("D1:1", "D3:1")),
    )
    cut = first_sessions(Conversation("c", turns, questions), 2)
    assert [t.session for t in cut.turns] == [1, 2]
    assert [q.question for q in cut.questions] == ["in one?"]


def test_answer_recall_counts_only_the_words_the_recalled_memories_hold(app: Papertape) -> None:
    app.note("Caroline went to the pottery class in Lisbon.", now=NOW, occurred_at=NOW)
    questions = (
        Question("Where was the pottery class?", "Lisbon", 4, ("D1:1",)),
        Question("Which pottery class, and who taught it?", "pottery class by Ana", 1, ("D1:1",)),
        Question("Is it about the pottery?", "", 5, ()),  # adversarial: not asked
    )
    result = score(app, Conversation("c", (), questions), NOW + 60)
    assert result["counts"] == {4: 1, 1: 1}
    assert result["sums"][4] == 1.0
    assert result["sums"][1] == 2 / 3  # "pottery" and "class" are there, "Ana" is not
    assert result["chars"] > 0
