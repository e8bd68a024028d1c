"""Importance signals, gists, summaries and the duplicate test, on their own."""

from __future__ import annotations

import pytest

from agent.memory.duplicates import same_values, values
from agent.memory.importance import blended, named_things, rate_with_model, signal_importance
from agent.memory.summaries import (
    ExtractiveSummarizer,
    ModelSummarizer,
    first_sentence,
    gist,
    sentences,
)
from models.fake_generator import ScriptedGenerator


def test_signals_order_memories_sensibly() -> None:
    plain = signal_importance("had lunch", "text")
    detailed = signal_importance("Lunch with Maria Lopez at Casa Nova on 12 June, 3pm", "text")
    assert plain < detailed
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


def test_gist_is_the_first_sentence_on_one_short_line() -> None:
    text = (
        "Dr. Patel said the MRI on Tuesday looked fine and there is nothing to worry about "
        "at all for now. We went for coffee after."
    )
    line = gist(text, 60)
    assert len(line) <= 60
    assert "\n" not in line
    assert line == "Dr. Patel said the MRI on Tuesday looked fine and there is…"
    assert gist("Short note.\nSecond line.") == "Short note."
    assert first_sentence("Met Dr. Who. Then left.") == "Met Dr. Who."


def test_sentences_end_at_latin_and_cjk_stops() -> None:
    assert sentences("Met J. Smith at 5 p.m. today. Then left!") == [
        "Met J. Smith at 5 p.m. today.",
        "Then left!",
    ]
    assert sentences("我很好。你呢？好的") == ["我很好。", "你呢？", "好的"]
    assert sentences("Ich bin da. Du auch?") == ["Ich bin da.", "Du auch?"]
    # An ordinal date is no sentence's end: the month stays with its day.
    assert sentences("Der Termin ist am 12. Januar um 10 Uhr. Raum 3.") == [
        "Der Termin ist am 12. Januar um 10 Uhr.",
        "Raum 3.",
    ]
    assert sentences("") == []


# No word list: the words every sentence shares weigh next to nothing, in any language.
@pytest.mark.parametrize(
    ("texts", "subject", "aside"),
    [
        (
            [
                "The garden project starts in May.",
                "Priya brings tomato seedlings for the garden project.",
                "Nice weather today.",
                "We agreed the garden project budget is 200 euros.",
            ],
            "garden project",
            "weather",
        ),
        (
            [
                "Das Gartenprojekt beginnt im Mai.",
                "Priya bringt Tomaten für das Gartenprojekt.",
                "Schönes Wetter heute.",
                "Das Budget für das Gartenprojekt ist 200 Euro.",
            ],
            "Gartenprojekt",
            "Wetter",
        ),
    ],
)
def test_extractive_summary_keeps_the_central_sentences(
    texts: list[str], subject: str, aside: str
) -> None:
    summary = ExtractiveSummarizer(max_chars=120).summarize(texts)
    assert subject in summary
    assert aside not in summary
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


def test_same_values() -> None:
    assert same_values("Parked on level 3, spot B12.", "parked on level 3 spot B12")
    assert not same_values("Parked on level 3.", "Parked on level 4.")
    assert not same_values("Standup with Ana on Monday.", "Standup with Ana on Tuesday.")
    assert same_values("Standup with Ana.", "standup with Ana")  # the opening word is no name
    assert values("Treffen mit Lena am Freitag in Köln, 10 Uhr.") == {
        "lena",
        "freitag",
        "köln",
        "10",
        "uhr",
    }
    assert not same_values("会议在3号。", "会议在4号。")
