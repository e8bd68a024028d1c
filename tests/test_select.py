"""A when-question is answered from the lines the model picks: the model reads whether the
question asks when (agent/answer/asks_when.py), then names the memories shown that hold what
it asks, then answers with only those (agent/answer/select.py)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import NOW

from agent.answer.asks_when import EXAMPLES, SCHEMA, asks_when
from agent.answer.select import SELECT_MAX, select_lines, select_schema
from agent.cli.output import ask_json
from agent.service import Papertape
from agent.settings import load_settings
from models.fake_generator import KeepingGenerator, ScriptedGenerator
from models.generator import ChatMessage, generate


def test_the_picked_ids_are_read_once_each_and_only_among_those_shown() -> None:
    generator = ScriptedGenerator(['{"memory_ids": [3, 99, 3, 1]}'])
    assert select_lines(generator, "prompt", [1, 2, 3]) == (3, 1)
    assert generator.schemas == [select_schema([1, 2, 3])]
    ids = select_schema([1, 2, 3])["properties"]["memory_ids"]
    assert ids["items"] == {"enum": [1, 2, 3]}
    assert (ids["minItems"], ids["maxItems"]) == (1, SELECT_MAX)


@pytest.mark.parametrize("reply", ['{"memory_ids": 3}', '{"memory_ids": ["3"]}', "[3]", '{"mem'])
def test_a_reply_that_names_no_shown_id_picks_nothing(reply: str) -> None:
    assert select_lines(ScriptedGenerator([reply]), "prompt", [1, 2, 3]) == ()


LINES = [f"Dana: On day {n} I walked the dog along canal route {n}." for n in range(1, 10)]


def plant(app: Papertape, lines: list[str] = LINES) -> list[int]:
    ids = []
    for n, text in enumerate(lines):
        result = app.note(text, now=NOW + n, occurred_at=NOW - 86400 * (20 - n))
        assert result.memory_id is not None
        ids.append(result.memory_id)
    return ids


def asked(app: Papertape, replies: list[str], *, select: bool = True) -> ScriptedGenerator:
    app.settings = replace(
        app.settings, ask_k=len(LINES), context_hits=0, pick_lines_for_when=select
    )
    generator = ScriptedGenerator(replies)
    app._generator = generator
    app._models.clear()
    return generator


def answer(text: str, ids: list[int]) -> str:
    return json.dumps({"answer": text, "memory_ids": ids, "status": "answered"})


WHEN = '{"kind": "date"}'
OTHER = '{"kind": "other"}'


@pytest.mark.parametrize(
    ("reply", "when"), [(WHEN, True), (OTHER, False), ('{"kind": "Date"}', False), ('{"ki', False)]
)
def test_only_a_reply_of_date_reads_the_question_as_asking_when(reply: str, when: bool) -> None:
    generator = ScriptedGenerator([reply])
    assert asks_when(generator, "Wann war der Termin?") is when
    (prompt,) = generator.prompts
    assert generator.schemas == [SCHEMA]
    assert all(example in prompt for example, _ in EXAMPLES)
    assert prompt.rstrip().endswith("<|user|>\nWann war der Termin?\n<|assistant|>")


def test_the_worked_examples_are_kept_read_without_the_question() -> None:
    generator = KeepingGenerator([WHEN, OTHER])
    asks_when(generator, "Wann war der Termin?")
    asks_when(generator, "Who came?")
    first, second = generator.kept
    assert first == second  # the same beginning for every question
    assert all(example in first for example, _ in EXAMPLES)
    assert all(prompt.startswith(first) for prompt in generator.prompts)
    assert "Termin" not in first
    assert "Who came" not in first


def test_a_when_question_is_answered_with_only_the_picked_lines(app: Papertape) -> None:
    ids = plant(app)
    picked = [ids[2], ids[6]]
    generator = asked(
        app, [WHEN, json.dumps({"memory_ids": picked}), answer("canal route 3 and 7", picked)]
    )
    found = app.chat(remember=False).ask("When did Dana walk the canal routes?", now=NOW + 100)
    kind, first, second = generator.prompts
    assert "When did Dana walk the canal routes?" in kind
    assert not any(line in kind for line in LINES)
    assert all(line in first for line in LINES)  # picked from everything recall showed
    assert [m.id for m in found.memories] == picked
    assert [line for line in LINES if line in second] == [LINES[2], LINES[6]]
    assert found.text == "canal route 3 and 7"
    assert found.citations == tuple(picked)
    assert set(found.offered) == set(ids)
    assert found.offered_tokens > found.prompt_tokens
    assert ask_json(found)["picked_from"] == list(found.offered)
    assert generator.schemas[1] == select_schema([m.id for m in app.store.get_many(ids).values()])


def test_another_question_is_answered_from_every_line_without_a_pick(app: Papertape) -> None:
    ids = plant(app)
    generator = asked(app, [OTHER, answer("route 3", [ids[2]])])
    found = app.chat(remember=False).ask("Which canal routes did Dana walk?", now=NOW + 100)
    assert len(generator.prompts) == 2
    assert generator.schemas[0] == SCHEMA
    assert all(line in generator.prompts[1] for line in LINES)
    assert (found.text, found.offered, found.offered_tokens) == ("route 3", (), 0)


def test_without_the_setting_or_with_nothing_picked_the_answer_sees_every_line(
    app: Papertape,
) -> None:
    ids = plant(app)
    off = asked(app, [answer("route 3", [ids[2]])], select=False)
    app.chat(remember=False).ask("When did Dana walk the canal routes?", now=NOW + 100)
    assert len(off.prompts) == 1
    assert all(line in off.prompts[0] for line in LINES)
    unread = asked(app, [WHEN, '{"memory_ids": []}', answer("route 3", [ids[2]])])
    found = app.chat(remember=False).ask("When did Dana walk the canal routes?", now=NOW + 100)
    assert all(line in unread.prompts[2] for line in LINES)
    assert len(found.memories) == len(LINES)
    assert found.offered == ()
    assert found.offered_tokens == 0


def test_a_few_lines_are_answered_from_without_asking_what_the_question_is(
    app: Papertape,
) -> None:
    ids = plant(app, LINES[:SELECT_MAX])
    generator = asked(app, [answer("route 3", [ids[2]])])
    found = app.chat(remember=False).ask("When did Dana walk the canal routes?", now=NOW + 100)
    assert len(generator.prompts) == 1
    assert found.citations == (ids[2],)


@pytest.mark.needs("llama_cpp")
def test_a_random_model_reads_and_picks_within_the_schemas_bounds(tmp_path: Path) -> None:
    from tests.tiny_gguf import tiny_llama

    model = tiny_llama(tmp_path)
    prompt = model.format_chat([ChatMessage("user", "Which canal routes did Dana walk?")])
    picked = select_lines(model, prompt, [4, 8, 15, 16, 23, 42, 7])
    assert set(picked) <= {4, 8, 15, 16, 23, 42, 7}
    assert len(picked) <= SELECT_MAX
    assert isinstance(asks_when(model, "Which canal routes did Dana walk?"), bool)
    model.close()


@pytest.mark.integration
@pytest.mark.needs("qwen2.5-coder-1.5b", "llama_cpp")
def test_the_default_model_tells_a_when_question_in_any_language(home: Path) -> None:
    """How often it is right on LoCoMo's questions is in docs/BENCHMARKS.md; these are
    written here, in three languages, none of them among its worked examples."""
    settings = load_settings(home, overrides={"embedder": "fake", "model": "qwen2.5-coder-1.5b"})
    with Papertape(settings) as app:
        from models.llama_generator import LlamaGenerator

        model = app.generator()
        assert isinstance(model, LlamaGenerator)
        assert asks_when(model, "When did Priya get her bike repaired?")
        assert asks_when(model, "Wann ist Omas Geburtstag?")
        assert asks_when(model, "我的牙医预约是哪天？")
        # Another prompt between readings, as an answer comes between in `ask`: the worked
        # examples' cache is copied back, and the readings are the same.
        other = model.format_chat([ChatMessage("user", "Say hello.")])
        for question, when in [
            ("What colour is Priya's new bike?", False),
            ("Wer hat mir das Rezept gegeben?", False),
            ("我的牙医叫什么名字？", False),
            ("Wann ist Omas Geburtstag?", True),
        ]:
            generate(model, other, max_tokens=1)
            assert asks_when(model, question) is when
            assert model.last_reused_tokens > 100
