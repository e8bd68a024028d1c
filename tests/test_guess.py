"""The search guess: a made-up answer line the model writes before recall, searched for
beside the question (agent/answer/guess.py)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import NOW

from agent.answer.guess import GUESS_MAX_CHARS, guess_schema, read_guess, search_guess
from agent.cli.output import ask_json
from agent.service import Papertape
from models.fake_generator import ScriptedGenerator


class Unconstrained(ScriptedGenerator):
    constrains_output = False


def answer(text: str, ids: list[int]) -> str:
    return json.dumps({"answer": text, "memory_ids": ids, "status": "answered"})


def test_the_guess_is_the_line_of_the_reply_on_one_line() -> None:
    assert read_guess('{"line": "  Dana took up\\n pottery  "}') == "Dana took up pottery"
    assert read_guess('{"line": "她开始学陶艺了"}') == "她开始学陶艺了"
    for broken in ('{"line": 3}', '["a line"]', '{"line": "cut off', ""):
        assert read_guess(broken) == ""


def test_the_model_is_asked_under_a_bounded_schema_with_the_question() -> None:
    generator = ScriptedGenerator(['{"line": "Dana: I started pottery classes."}'])
    assert search_guess(generator, "Welches Hobby hat Dana?") == "Dana: I started pottery classes."
    assert generator.schemas == [guess_schema()]
    assert guess_schema()["properties"]["line"]["maxLength"] == GUESS_MAX_CHARS
    assert generator.prompts[0].rstrip().endswith("Welches Hobby hat Dana?\n<|assistant|>")


def test_a_runtime_that_cannot_be_held_to_the_schema_is_not_asked() -> None:
    generator = Unconstrained(['{"line": "anything"}'])
    assert search_guess(generator, "What hobby does Dana have?") == ""
    assert generator.prompts == []


def test_no_room_in_the_context_means_no_guess() -> None:
    generator = ScriptedGenerator(['{"line": "x"}'], context_tokens=60)
    assert search_guess(generator, "What hobby does Dana have?") == ""
    assert generator.prompts == []


HOBBY = "Dana: I started pottery classes on Tuesdays."
OTHERS = [
    "Dana: What a week, the hobby shop by the station finally closed.",
    "Dana: My brother asked what hobby I would pick if I had time.",
    "Dana: Does your hobby group still meet at the library?",
]


def plant(app: Papertape) -> int:
    for offset, text in enumerate(OTHERS):
        app.note(text, now=NOW + offset, occurred_at=NOW - 86400 * (offset + 2))
    result = app.note(HOBBY, now=NOW + 10, occurred_at=NOW - 86400 * 9)
    assert result.memory_id is not None
    return result.memory_id


def asked(app: Papertape, replies: list[str], *, search_guess: bool = True) -> ScriptedGenerator:
    app.settings = replace(app.settings, ask_k=1, context_hits=0, search_guess=search_guess)
    generator = ScriptedGenerator(replies)
    app._generator = generator
    app._models.clear()
    return generator


def test_the_guess_brings_the_line_that_answers_into_view(app: Papertape) -> None:
    hobby = plant(app)
    question = "Which hobby did Dana take up?"
    # The question alone: its words match the other lines, and the answer is not shown.
    asked(app, [answer("the hobby shop", [1])], search_guess=False)
    alone = app.chat(remember=False).ask(question, now=NOW + 100)
    assert [m.id for m in alone.memories] != [hobby]
    assert alone.guess == ""
    # The model's made-up line shares the stored line's words: that line is shown.
    guess = '{"line": "Dana started pottery classes."}'
    generator = asked(app, [guess, answer("pottery", [hobby])])
    found = app.chat(remember=False).ask(question, now=NOW + 100)
    assert [m.id for m in found.memories] == [hobby]
    assert found.text == "pottery"  # the answer is the model's answer field, not the guess
    assert found.guess == "Dana started pottery classes."
    assert ask_json(found)["search_guess"] == found.guess
    assert generator.schemas[0] == guess_schema()  # asked first, then the answer
    assert "Dana started pottery classes." not in generator.prompts[1]


def test_a_guess_that_matches_nothing_leaves_the_questions_own_search(app: Papertape) -> None:
    plant(app)
    question = "Which hobby did Dana take up?"
    asked(app, [answer("x", [1])], search_guess=False)
    alone = app.chat(remember=False).ask(question, now=NOW + 100)
    asked(app, ['{"line": "zzqx vvkw"}', answer("x", [1])])
    guessed = app.chat(remember=False).ask(question, now=NOW + 100)
    assert [m.id for m in guessed.memories] == [m.id for m in alone.memories]


@pytest.mark.needs("llama_cpp")
def test_a_random_model_writes_a_guess_within_the_schemas_bounds(tmp_path: Path) -> None:
    from tests.tiny_gguf import tiny_llama

    model = tiny_llama(tmp_path)
    guess = search_guess(model, "Which hobby did Dana take up?")
    # Random weights write whatever the grammar allows: a line of bounded length, or nothing.
    assert len(guess) <= GUESS_MAX_CHARS
    assert guess == " ".join(guess.split())
