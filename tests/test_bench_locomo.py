"""The LoCoMo benchmark's question sample (scripts/bench_locomo.py)."""

from __future__ import annotations

from bench_locomo import sample
from locomo import Conversation, Question


def conversation(questions: int) -> Conversation:
    asked = tuple(Question(f"q{i}?", "a", 4, (f"D1:{i}",)) for i in range(questions))
    return Conversation("conv-x", (), asked)


def test_a_sample_spreads_over_the_conversation_and_an_offset_gives_other_questions() -> None:
    conv = conversation(100)
    first = [q.question for q in sample(conv, 10)]
    middle = [q.question for q in sample(conv, 10, 0.5)]
    assert first == [f"q{i}?" for i in range(0, 100, 10)]
    assert middle == [f"q{i}?" for i in range(5, 100, 10)]
    assert not set(first) & set(middle)


def test_a_limit_above_the_question_count_takes_them_all() -> None:
    conv = conversation(7)
    assert len(sample(conv, 10, 0.5)) == 7
