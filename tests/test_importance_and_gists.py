"""Importance signals, gists, summaries and the update test, on their own."""

from __future__ import annotations

import pytest

from agent.importance import blended, named_things, rate_with_model, signal_importance
from agent.summarize import ExtractiveSummarizer, ModelSummarizer, first_sentence, gist
from agent.updates import same_values, updates
from models.fake_generator import ScriptedGenerator


def test_signals_order_memories_sensibly() -> None:
    plain = signal_importance("had lunch", "text")
    detailed = signal_importance("Lunch with Maria Lopez at Casa Nova on 12 June, 3pm", "text")
    cued = signal_importance("Remember this: had lunch", "text")
    assert plain < detailed and plain < cued
    assert signal_importance("had lunch", "chat") < plain
    assert signal_importance("had lunch", "text", recalls=3) > plain
    assert signal_importance("had lunch", "text", pinned=True) == 1.0
    assert 0.0 <= signal_importance("word " * 10_000 + "Important", "summary") <= 1.0


def test_named_things_skip_sentence_starts() -> None:
    assert named_things("Today I met Ana. Then we saw Bob at 5pm.") == 3  # Ana, Bob, 5pm
    assert named_things("Lunch. Dinner.") == 0


def test_model_rating_is_parsed_and_blended() -> None:
    assert rate_with_model(ScriptedGenerator(["4"]), "x") == 0.75
    assert rate_with_model(ScriptedGenerator(["Rating: 1 of 5"]), "x") == 0.0
    assert rate_with_model(ScriptedGenerator(["no idea"]), "x") is None
    assert blended(0.4, None) == 0.4
    assert blended(0.4, 1.0) == 0.7


def test_gist_is_one_short_line_of_the_telling_words() -> None:
    text = (
        "Dr. Patel said the MRI on Tuesday looked fine and there is nothing to worry about "
        "at all for now. We went for coffee after."
    )
    line = gist(text, 60)
    assert len(line) <= 60 and "\n" not in line
    assert line.startswith("Dr. Patel said MRI Tuesday")
    assert first_sentence("Met Dr. Who. Then left.") == "Met Dr. Who."
    assert gist("the and of") == "the and of"  # nothing but glue: kept as it is


def test_extractive_summary_keeps_the_central_sentences() -> None:
    texts = [
        "The garden project starts in May.",
        "Priya brings tomato seedlings for the garden project.",
        "Nice weather today.",
        "We agreed the garden project budget is 200 euros.",
    ]
    summary = ExtractiveSummarizer(max_chars=120).summarize(texts)
    assert "garden project" in summary and "weather" not in summary
    assert len(summary) <= 120
    assert ExtractiveSummarizer().summarize([]) == ""


def test_model_summary_falls_back_when_the_model_says_nothing() -> None:
    texts = ["The garden project starts in May.", "Priya brings tomato seedlings."]
    written = ModelSummarizer(ScriptedGenerator(["Priya and I start the garden in May."]))
    assert written.summarize(texts) == "Priya and I start the garden in May."
    assert "garden" in ModelSummarizer(ScriptedGenerator(["ok"])).summarize(texts)


def test_model_summary_fits_the_context() -> None:
    generator = ScriptedGenerator(["A summary long enough to be kept."], context_tokens=300)
    ModelSummarizer(generator, max_tokens=50).summarize(["word " * 40] * 20)
    assert generator.count_tokens(generator.prompts[0]) <= 300 - 50


@pytest.mark.parametrize(
    ("newer", "older", "expected"),
    [
        ("The dentist appointment moved to March 5 at 2pm.", "Dentist on March 3 at 10am.", True),
        ("My new address is 42 Elm Street.", "My address is 12 Oak Road.", True),
        ("Standup on day 2: Kafka migration.", "Standup on day 1: Kafka migration.", False),
        ("I had pasta on March 5, new recipe.", "Dentist appointment on March 3.", False),
        ("The dentist appointment moved again.", "Dentist appointment on March 3.", False),
    ],
)
def test_updates(newer: str, older: str, expected: bool) -> None:
    assert updates(newer, older) is expected


def test_same_values() -> None:
    assert same_values("Parked on level 3, spot B12.", "parked on level 3 spot B12")
    assert not same_values("Parked on level 3.", "Parked on level 4.")
