"""The one check on an answer (agent/answer/check.py): words shared with what it cites, or closeness
in meaning, read the same way in every language."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from conftest import NOW, CloseEmbedder

from agent.answer.check import is_about, is_supported, shared_share, unheld_numbers
from agent.cli.output import answer_marks
from agent.service import Papertape
from agent.settings import Settings
from agent.words import words
from models.fake_generator import ScriptedGenerator


def test_words_split_unspaced_scripts_into_characters_and_fold_case() -> None:
    assert words("Hunter2 wiki.example.com/team") == {"hunter2", "wiki", "example", "com", "team"}
    assert words("妈妈的生日 2 June") == {"妈", "的", "生", "日", "2", "june"}
    assert words("Straße") == words("STRASSE")


def test_the_share_counts_only_words_the_question_does_not_hold() -> None:
    cited = ["[3] (Mon 8 May 2023) Caroline: the wifi password is hunter2"]
    assert shared_share("hunter2", "What is the wifi password?", cited) == 1.0
    assert shared_share("555-0101", "What is the wifi password?", cited) == 0.0
    assert shared_share("the wifi password", "What is the wifi password?", cited) == 1.0
    assert shared_share("2 June", "我妈妈的生日是哪天？", ["[41] (Thu) 妈妈 2 June 生日"]) == 1.0


@pytest.mark.needs("onnxruntime", "tokenizers", "minilm-int8-onnx", "minilm-tokenizer")
def test_a_placeholder_is_support_only_for_one_of_its_own_kind() -> None:
    question = "What is my wifi password?"
    answer = "My wifi password: [redacted password]&3horse"
    key_note = ["[8] (Mon) export OPENAI_API_KEY=[redacted openai key]"]
    wifi_note = ["[7] (Mon) My wifi password: [redacted password]&3horse"]
    # "redacted" in another secret's placeholder held half the answer's new words.
    assert shared_share(answer, question, key_note) == 0.0
    assert shared_share(answer, question, wifi_note) == 1.0


def test_numbers_are_words_with_a_digit_in_any_script_held_by_question_or_lines() -> None:
    flight = ["[3] (Tue 2 Apr 2024) Flight to Lisbon on TAP, leaving at 7:45, ref QXR4TZ"]
    assert unheld_numbers("Seat 4", "Which seat do I have?", flight) == {"4"}
    assert unheld_numbers("It leaves at 7:45 on 2 Apr", "When?", flight) == set()
    assert unheld_numbers("Row 12", "Is row 12 mine?", flight) == set()  # the question's
    assert unheld_numbers("٣ مقاعد", "How many seats?", flight) == {"٣"}  # Arabic-Indic three
    assert unheld_numbers("三点半", "几点？", flight) == set()  # no digit: a word, not a number
    assert unheld_numbers("Ref QXR4TZ", "Booking reference?", flight) == set()


def test_closeness_passes_no_number_the_lines_do_not_hold() -> None:
    flight = ["[3] (Tue 2 Apr 2024) Flight to Lisbon on TAP, leaving at 7:45"]
    question = "Which seat did I get on the Lisbon flight?"

    def supported(answer: str) -> bool:
        return is_supported(CloseEmbedder(), answer, question, flight, min_similarity=0.4)

    assert not supported("You have seat 14C by the window.")  # made up: shares no words
    assert supported("You have a window seat.")  # no number: closeness decides, as before
    assert supported("The flight leaves at 7:45 from gate B.")  # its number is held
    # Half its new words held: the word test passes it, numbers and all (as before).
    assert supported("Lisbon flight on TAP leaving at 7:45, seat 14C")


def test_an_answer_without_citations_or_words_is_not_supported(minilm: Any) -> None:
    assert not is_supported(minilm, "4411", "code?", [], min_similarity=0.4)
    assert not is_supported(minilm, " ", "code?", ["code 4411"], min_similarity=0.4)


@pytest.mark.integration
def test_a_yes_is_supported_by_meaning_and_an_invention_is_not(minilm: Any) -> None:
    line = ["[9] (Sat 6 May 2023) Deborah: I went surfing for the first time last weekend!"]
    assert is_supported(minilm, "Yes", "Has Deborah tried surfing?", line, min_similarity=0.4)
    food = ["[12] (Wed 10 May 2023) Caroline: my wifi password at the flat is hunter2"]
    assert not is_supported(
        minilm, "pizza", "What is Caroline's favourite food?", food, min_similarity=0.4
    )


@pytest.mark.integration
def test_cited_lines_must_be_about_what_the_question_asks(minilm: Any) -> None:
    floor = Settings.question_min_similarity
    lease = ["[5] (Mon 3 Jun 2024) Lease: rent is 1450 dollars a month, late fee 50 dollars"]
    assert is_about(minilm, "How much rent do I pay?", lease, min_similarity=floor)
    assert is_about(minilm, "What is the late fee?", lease, min_similarity=floor)
    # Its number answers a question about a repair never noted: its words pass, this does not.
    repair = "What did the mechanic charge for the brakes?"
    assert is_supported(minilm, "1450 dollars", repair, lease, min_similarity=0.4)
    assert not is_about(minilm, repair, lease, min_similarity=floor)
    assert not is_about(minilm, "When is my piano lesson?", lease, min_similarity=floor)
    assert not is_about(minilm, "How much rent do I pay?", [], min_similarity=floor)


def test_an_answer_citing_lines_on_something_else_is_shown_as_written_and_marked(
    app: Papertape,
) -> None:
    # The fake embedder's closeness is shared words: enough to follow the check's path.
    app.settings = replace(app.settings, question_min_similarity=0.3)
    lease = app.note("Lease: rent is 1450 dollars a month", now=NOW).memory_id
    assert lease is not None
    reply = {"answer": "1450 dollars", "memory_ids": [lease], "status": "answered"}
    app._generator = ScriptedGenerator([json.dumps(reply)])
    app._models.clear()
    answer = app.chat(remember=False).ask("What did the mechanic charge?", now=NOW + 60)
    assert answer.text == "1450 dollars"  # the model's words, kept
    assert answer.off_question
    assert not answer.supported
    assert "what it cites is not about what you asked" in " ".join(answer_marks(answer))
    app._generator = ScriptedGenerator([json.dumps(reply)])
    app._models.clear()
    answer = app.chat(remember=False).ask("What rent is in the lease a month?", now=NOW + 120)
    assert not answer.off_question
    assert answer.supported
    assert answer_marks(answer) == []
