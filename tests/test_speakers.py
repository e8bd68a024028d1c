"""Who said what in transcript lines, and which speaker a question is about."""

from __future__ import annotations

from dataclasses import replace

from conftest import memory

from agent.speakers import named_speaker, speaker_of

CAROLINE = memory(1, "Caroline: I went to a poetry reading last night.")
MELANIE = memory(2, "Melanie: I ran a charity race for mental health on Saturday.")
NOTE = memory(3, "Buy oat milk and bread.")


def test_a_transcript_line_names_its_speaker() -> None:
    assert speaker_of(CAROLINE) == "Caroline"
    assert speaker_of(memory(4, "Mary Ann Evans: hello there")) == "Mary Ann Evans"


def test_lines_without_a_person_have_no_speaker() -> None:
    assert speaker_of(NOTE) is None
    assert speaker_of(memory(5, "TODO: call the bank")) is None  # not a name
    assert speaker_of(memory(6, "Reminder:call the bank")) is None  # no space after the colon
    chat = replace(memory(7, "Q: what did Caroline say?\nA: nothing"), kind="chat")
    assert speaker_of(chat) is None


def test_a_question_naming_one_of_two_speakers_is_about_them() -> None:
    shown = [CAROLINE, MELANIE, NOTE]
    assert named_speaker("What did Caroline realize after the race?", shown) == "Caroline"
    assert named_speaker("Why did Melanie's race matter?", shown) == "Melanie"


def test_no_rule_without_a_transcript_or_with_two_names_or_none() -> None:
    assert named_speaker("What did Caroline read?", [CAROLINE, NOTE]) is None  # one speaker
    assert named_speaker("Did Caroline and Melanie meet?", [CAROLINE, MELANIE]) is None
    assert named_speaker("Who ran a charity race?", [CAROLINE, MELANIE]) is None
    assert named_speaker("What did Carol say?", [CAROLINE, MELANIE]) is None  # a whole word
