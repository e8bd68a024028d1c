"""Answers that lead with what is new (agent/concise.py): pure text rules, no model."""

from __future__ import annotations

import pytest

from agent.concise import lead_with_answer


@pytest.mark.parametrize(
    ("question", "answer", "led"),
    [
        # The restated opening goes; the id stays where it was.
        (
            "What activity do Andrew and Buddy enjoy doing together?",
            "Andrew and Buddy enjoy walking. [562]",
            "Walking. [562]",
        ),
        # "wants" restates "want", "supports" restates "support"; glue words go with them.
        (
            "What important values does John want to teach his kids?",
            "John wants to teach his kids responsibility and compassion.",
            "Responsibility and compassion.",
        ),
        (
            "When did Jon and Gina decide to collaborate?",
            "Jon and Gina decided to collaborate on 21 July 2023 [346].",
            "21 July 2023 [346].",
        ),
        # A citation inside the dropped opening moves to the end, not away.
        ("Who does James support?", "James [285] supports Liverpool.", "Liverpool. [285]"),
        # A possessive restates the name it is made from.
        ("What is Nate's favourite treat?", "Nate's favourite treat is mousse", "Mousse"),
    ],
)
def test_a_restated_opening_is_dropped(question: str, answer: str, led: str) -> None:
    assert lead_with_answer(answer, question) == led


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        # Only the subject is restated: dropping it would leave a bare verb.
        ("What did Gina find for her store?", "Gina found a cozy space for it."),
        # Yes or no is the answer, however much of the question follows it.
        ("Did John start surfing in 2018?", "Yes, John started surfing in 2018."),
        # In an either/or question the restated name can be the answer.
        ("Who likes hiking more, John or Maria?", "John likes hiking more."),
        # Nothing but the question's words: there is nothing to lead with.
        ("What does John want?", "John wants."),
        # The answer already leads.
        ("Where did James go?", "Vancouver, after Toronto [12]."),
    ],
)
def test_an_answer_is_left_whole_when_dropping_would_lose_or_garble_it(
    question: str, answer: str
) -> None:
    assert lead_with_answer(answer, question) == answer
