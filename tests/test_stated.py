"""Is it stated? The model reads whether what an answer cites says what it says
(agent/answer/stated.py), where the word test cannot tell (agent/answer/check.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import NOW, CloseEmbedder

from agent.answer.check import is_supported
from agent.answer.stated import read_stated, stated_schema
from agent.service import Papertape
from agent.settings import load_settings
from models.fake_generator import KeepingGenerator, ScriptedGenerator

ADDRESS = ["[4] (Tue 3 Mar 2026) Aunt Rosa moved to 12 Elm Road, Leeds."]
QUESTION = "What is Aunt Rosa's cat called?"


class Unconstrained(ScriptedGenerator):
    constrains_output = False


def stated(word: str) -> str:
    return json.dumps({"stated": word})


def test_the_model_replies_yes_or_no_under_a_schema_shown_question_answer_and_lines() -> None:
    generator = ScriptedGenerator([stated("no"), stated("yes"), '{"stated": "maybe"}', "cut"])
    assert read_stated(generator, QUESTION, "Mimi", ADDRESS) is False
    assert read_stated(generator, "Where does Rosa live?", "Elm Road", ADDRESS) is True
    assert read_stated(generator, QUESTION, "Mimi", ADDRESS) is None
    assert read_stated(generator, QUESTION, "Mimi", ADDRESS) is None
    assert generator.schemas == [stated_schema()] * 4
    user = generator.prompts[0].split("<|user|>\n", 1)[1]
    assert user.startswith(f"Question: {QUESTION}\nAnswer: Mimi\nMemories:\n{ADDRESS[0]}")


def test_a_runtime_that_cannot_be_held_to_the_schema_or_no_lines_means_no_reading() -> None:
    generator = Unconstrained([stated("no")])
    assert read_stated(generator, QUESTION, "Mimi", ADDRESS) is None
    assert read_stated(ScriptedGenerator([stated("no")]), QUESTION, "Mimi", []) is None
    assert generator.prompts == []


def test_the_instructions_are_kept_as_a_beginning_every_reading_shares() -> None:
    generator = KeepingGenerator([stated("no"), stated("yes")])
    read_stated(generator, QUESTION, "Mimi", ADDRESS)
    read_stated(generator, "Wo wohnt Rosa?", "Elm Road 12", ADDRESS)
    assert len(set(generator.kept)) == 1
    assert all(prompt.startswith(generator.kept[0]) for prompt in generator.prompts)
    assert generator.kept[0].endswith("Question: ")


def check(generator: ScriptedGenerator, answer: str, reading: str, lines: list[str]) -> bool:
    return is_supported(
        CloseEmbedder(),
        answer,
        QUESTION,
        lines,
        min_similarity=0.4,
        reader=generator,
        reading=reading,
    )


def test_unshared_asks_the_model_only_where_the_answer_words_are_not_in_what_it_cites() -> None:
    generator = ScriptedGenerator([stated("no")])
    # "Mimi" is nowhere in the line: closeness alone would pass it; the model's "no" decides.
    assert not check(generator, "Mimi", "unshared", ADDRESS)
    assert len(generator.prompts) == 1
    # Its words are in the line: the model is not asked.
    assert check(generator, "Elm Road, Leeds", "unshared", ADDRESS)
    assert len(generator.prompts) == 1


def test_every_asks_the_model_for_every_answer_and_off_never() -> None:
    generator = ScriptedGenerator([stated("no")])
    assert not check(generator, "Elm Road, Leeds", "every", ADDRESS)
    assert len(generator.prompts) == 1
    assert check(generator, "Mimi", "off", ADDRESS)  # closeness passes it, as before
    assert len(generator.prompts) == 1


def test_an_unreadable_reading_leaves_closeness_to_decide() -> None:
    assert check(ScriptedGenerator(["not json"]), "Mimi", "unshared", ADDRESS)
    assert check(Unconstrained([stated("no")]), "Mimi", "every", ADDRESS)


def test_ask_marks_an_answer_the_model_reads_as_not_stated(home: Path) -> None:
    overrides = {"embedder": "fake", "model": "fake", "support_reading": "unshared"}
    with Papertape(load_settings(home, overrides=overrides)) as app:
        app.note("Aunt Rosa moved to 12 Elm Road, Leeds.", now=NOW)
        made_up = json.dumps({"answer": "Mimi", "memory_ids": [1], "status": "answered"})
        generator = ScriptedGenerator([made_up, stated("no")])
        app._generator = generator
        app._models.clear()
        answer = app.chat(remember=True).ask(QUESTION, now=NOW + 60)
        assert answer.text == "Mimi"
        assert answer.citations == (1,)
        assert answer.status == "answered"
        assert not answer.supported
        assert "Question: What is Aunt Rosa's cat called?\nAnswer: Mimi" in generator.prompts[1]
        stored = app.store.get(answer.memory_id or 0)
        assert stored is not None
        assert "not supported" in stored.text


@pytest.mark.needs("llama_cpp")
def test_a_random_model_is_held_to_the_schema(tmp_path: Path) -> None:
    from tests.tiny_gguf import tiny_llama

    model = tiny_llama(tmp_path)
    # Random weights write whatever the grammar allows: "yes" or "no", never anything else.
    assert read_stated(model, QUESTION, "Mimi", ADDRESS) in (True, False)
    model.close()


@pytest.mark.integration
@pytest.mark.needs("qwen2.5-coder-1.5b", "llama_cpp")
def test_the_default_model_reads_an_answer_in_another_language_as_stated(home: Path) -> None:
    """What the reading is for: right answers in another language than the note, which the
    English embedder's closeness marks. (It also reads most made-up answers as stated, which
    is why it is off by default: docs/BENCHMARKS.md.) Written here, not from the bench set."""
    settings = load_settings(home, overrides={"embedder": "fake", "model": "qwen2.5-coder-1.5b"})
    with Papertape(settings) as app:
        model = app.generator()
        assert read_stated(model, "Wo wohnt Tante Rosa jetzt?", "In Leeds, Elm Road 12.", ADDRESS)
        assert read_stated(model, "罗莎阿姨现在住在哪里？", "她住在利兹。", ADDRESS)
        assert read_stated(model, "Where does Aunt Rosa live now?", "In Leeds.", ADDRESS)
