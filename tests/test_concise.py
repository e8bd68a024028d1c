"""Answers that lead with what is new (agent/concise.py): pure text rules, no model."""

from __future__ import annotations

import pytest

from agent.concise import (
    concise_answer,
    lead_with_answer,
    without_cut_citation,
    without_repeats,
    without_restated_ending,
    yes_or_no,
)


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


@pytest.mark.parametrize(
    ("question", "answer", "ended"),
    [
        # The restated ending goes, from the small word that opens it; the id stays.
        (
            "What is Nate creating for YouTube on 9 November, 2022?",
            "Gaming content for YouTube on 9 November, 2022. [594]",
            "Gaming content. [594]",
        ),
        (
            "What hobby is a therapy for John when away from the court?",
            "Cooking is therapy for John when away from the court.",
            "Cooking.",
        ),
        # The kind of thing asked for is part of the answer.
        (
            "What game did Nate play at the convention on 9 October?",
            "Team shooter game at the convention on 9 October [5].",
            "Team shooter game. [5]",
        ),
        (
            "What kind of technique is Audrey using to discipline her dogs?",
            "Positive reinforcement techniques to discipline her dogs.",
            "Positive reinforcement techniques.",
        ),
        # A citation before the ending stays where it was.
        (
            "What book did Tim read in Ireland?",
            "The Hobbit [12], which he read in Ireland",
            "The Hobbit [12]",
        ),
    ],
)
def test_a_restated_ending_is_dropped(question: str, answer: str, ended: str) -> None:
    assert without_restated_ending(answer, question) == ended


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        # One restated word ends it: a detail of the answer, not the question said back.
        ("How do Jon and Gina like to destress?", "Dancing when they need to destress."),
        # Cut after a restated verb, the answer would lose its object.
        ("What motivates Joanna to keep writing?", "Her friends motivate her to keep writing."),
        # "achieved" is a verb, not the achievement asked for: the ending follows a verb.
        (
            "What achievement did John share in January?",
            "A total success, achieved by John in January.",
        ),
        # Nor is an ending cut that does not open with a phrase's first word.
        ("What did his teammates give John?", "A photo of what his teammates gave John."),
        # A "not" in the ending is the answer.
        ("Who went to the race?", "Melanie, who did not go to the race."),
        ("Did John go to the race in May?", "Yes, he went to the race in May."),
        ("Did John or Maria go to the race?", "Maria went to the race."),
        # No small word opens an ending: nothing to cut at.
        ("What is the sentiment about the grand opening?", "Positive grand opening"),
    ],
)
def test_an_ending_is_left_whole_when_dropping_would_lose_or_turn_it(
    question: str, answer: str
) -> None:
    assert without_restated_ending(answer, question) == answer


def test_an_answer_both_opening_and_ending_with_the_question_keeps_its_middle() -> None:
    question = "What did John cook for dinner with Maria on Friday?"
    answer = "John cooked lasagne for dinner with Maria on Friday [7]."
    assert concise_answer(answer, question) == "Lasagne. [7]"


@pytest.mark.parametrize(
    ("answer", "once"),
    [
        # A greedy loop cut off by the token budget: the repeats and the cut-off tail go.
        (
            "John has been to Barcelona, Barcelona, Barcelona, Barcelona, Barcel",
            "John has been to Barcelona",
        ),
        ("Patrick Rothfuss, Patrick Rothfuss, Patrick Rothfuss", "Patrick Rothfuss"),
        ("I love it. I love it. I lo", "I love it."),
        ("Luna, Ned, and Ned.", "Luna, Ned."),
        # A numbered list keeps its lines; an item said again under a new number goes.
        (
            "Problems:\n1. Limited space.\n2. Limited time.\n3. Limited space.\n4. Limited ti",
            "Problems:\n1. Limited space.\n2. Limited time.",
        ),
        # A line is an item: a reply that loops line by line says it once.
        ("Gina: [201]\n\nGina: [201]\n\nGina: [201]\n\nGina:", "Gina: [201]"),
        # A repeated item's citation moves to the end unless it is already there.
        ("Toys [3], dog beds [5], toys [7].", "Toys [3], dog beds [5] [7]."),
        ("Toys [3], dog beds [5], toys [3]!", "Toys [3], dog beds [5]!"),
    ],
)
def test_an_answer_says_each_thing_once(answer: str, once: str) -> None:
    assert without_repeats(answer) == once


@pytest.mark.parametrize(
    "answer",
    [
        "Seattle, Chicago, New York, and Paris.",
        # A last item that is a whole word of an earlier one was not cut off.
        "New York City, York",
        "Luna and Ned.",
        # Initials end with a full stop but are not items.
        "Books by George R. R. Martin. [509]",
    ],
)
def test_an_answer_without_repeats_is_left_as_it_was(answer: str) -> None:
    assert without_repeats(answer) == answer


def test_the_answer_rule_drops_repeats_and_then_the_restated_opening() -> None:
    looped = "James's dogs are Luna, Ned, Luna, Ned [4]."
    assert concise_answer(looped, "What are James's dogs called?") == "Luna, Ned [4]."


@pytest.mark.parametrize(
    ("question", "answer", "settled"),
    [
        # Said back with a "not": no; without one: yes, citations kept.
        (
            "Would John be considered a patriotic person?",
            "John is not considered a patriotic person.",
            "No.",
        ),
        ("Does James live in Connecticut?", "James lives in Connecticut [7].", "Yes. [7]"),
        ("Did John and James study together?", "John and James studied together.", "Yes."),
        ("Has Tim been to Tennessee?", "Tim hasn't been to Tennessee.", "No."),
        # An opening yes or no followed by the question said back: just the yes or no.
        (
            "Was the first half of September a good month for Nate? Answer yes or no.",
            "No, the first half of September was not a good month for Nate. [3]",
            "No. [3]",
        ),
        ("Would Melanie enjoy Vivaldi?", "Yes, Melanie would likely enjoy Vivaldi.", "Yes."),
        # "Might" opens a yes/no question as "would" does.
        ("Might Maria adopt another dog?", "Maria might not adopt another dog. [9]", "No. [9]"),
    ],
)
def test_a_yes_no_question_said_back_is_answered_yes_or_no(
    question: str, answer: str, settled: str
) -> None:
    assert yes_or_no(answer, question) == settled


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        # Something new beside the question's words: kept, it may be the real answer.
        ("Would John be open to moving abroad?", "No, he wants to join the U.S. military."),
        # An either/or question is answered by an option, not a yes.
        ("Would Tim enjoy C. S. Lewis or John Greene?", "Tim would enjoy C. S. Lewis."),
        # A yes that says "not": unclear, left for the reader.
        ("Would John be patriotic?", "Yes, John would not be patriotic."),
        # Not a yes/no question at all.
        ("What did John study?", "John studied."),
        # Too little of the question said back to read it as a restatement.
        ("Is Oscar Melanie's pet?", "Oscar."),
    ],
)
def test_other_answers_to_yes_no_questions_are_left_as_they_were(
    question: str, answer: str
) -> None:
    assert yes_or_no(answer, question) == answer


def test_a_restating_answer_is_not_refused_once_it_says_yes_or_no() -> None:
    question = "Would John be considered a patriotic person?"
    assert concise_answer("John would not be considered a patriotic person.", question) == "No."


@pytest.mark.parametrize(
    ("reply", "whole"),
    [
        ("Gina: [201] Gina: [20", "Gina: [201] Gina:"),
        ("Toys and beds [3, 1", "Toys and beds"),
        ("Toys and beds [", "Toys and beds"),
        ("Toys and beds [3]", "Toys and beds [3]"),
        ("In [2023] we moved", "In [2023] we moved"),
    ],
)
def test_a_citation_cut_off_at_the_end_of_a_reply_is_dropped(reply: str, whole: str) -> None:
    assert without_cut_citation(reply) == whole


def test_citations_moved_from_a_restated_opening_are_said_once() -> None:
    led = lead_with_answer(
        "Andrew [5] and Buddy [5] enjoy walking [5]", "What do Andrew and Buddy enjoy?"
    )
    assert led == "Walking [5]"
