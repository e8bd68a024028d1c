"""Picking the lines to answer from: the model first names the memories shown that hold what
the question asks, then answers with only those (agent/answer/select.py)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import NOW

from agent.answer.select import SELECT_MAX, select_lines, select_schema
from agent.cli.output import ask_json
from agent.service import Papertape
from models.fake_generator import ScriptedGenerator
from models.generator import ChatMessage


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


def plant(app: Papertape) -> list[int]:
    ids = []
    for n, text in enumerate(LINES):
        result = app.note(text, now=NOW + n, occurred_at=NOW - 86400 * (20 - n))
        assert result.memory_id is not None
        ids.append(result.memory_id)
    return ids


def asked(app: Papertape, replies: list[str], *, select: bool) -> ScriptedGenerator:
    app.settings = replace(app.settings, ask_k=len(LINES), context_hits=0, select_lines=select)
    generator = ScriptedGenerator(replies)
    app._generator = generator
    app._models.clear()
    return generator


def answer(text: str, ids: list[int]) -> str:
    return json.dumps({"answer": text, "memory_ids": ids, "status": "answered"})


def test_the_answer_is_asked_with_only_the_picked_lines(app: Papertape) -> None:
    ids = plant(app)
    picked = [ids[2], ids[6]]
    generator = asked(
        app,
        [json.dumps({"memory_ids": picked}), answer("canal route 3 and 7", picked)],
        select=True,
    )
    found = app.chat(remember=False).ask("Which canal routes did Dana walk?", now=NOW + 100)
    first, second = generator.prompts
    assert all(line in first for line in LINES)  # picked from everything recall showed
    assert [m.id for m in found.memories] == picked
    assert [line for line in LINES if line in second] == [LINES[2], LINES[6]]
    assert found.text == "canal route 3 and 7"
    assert found.citations == tuple(picked)
    assert set(found.offered) == set(ids)
    assert found.offered_tokens > found.prompt_tokens
    assert ask_json(found)["picked_from"] == list(found.offered)
    assert generator.schemas[0] == select_schema([m.id for m in app.store.get_many(ids).values()])


def test_without_the_setting_or_with_nothing_picked_the_answer_sees_every_line(
    app: Papertape,
) -> None:
    ids = plant(app)
    off = asked(app, [answer("route 3", [ids[2]])], select=False)
    app.chat(remember=False).ask("Which canal routes did Dana walk?", now=NOW + 100)
    assert len(off.prompts) == 1
    assert all(line in off.prompts[0] for line in LINES)
    unread = asked(app, ['{"memory_ids": []}', answer("route 3", [ids[2]])], select=True)
    found = app.chat(remember=False).ask("Which canal routes did Dana walk?", now=NOW + 100)
    assert all(line in unread.prompts[1] for line in LINES)
    assert len(found.memories) == len(LINES)
    assert found.offered == ()
    assert found.offered_tokens == 0


@pytest.mark.needs("llama_cpp")
def test_a_random_model_picks_within_the_schemas_bounds(tmp_path: Path) -> None:
    from tests.tiny_gguf import tiny_llama

    model = tiny_llama(tmp_path)
    prompt = model.format_chat([ChatMessage("user", "Which canal routes did Dana walk?")])
    picked = select_lines(model, prompt, [4, 8, 15, 16, 23, 42, 7])
    assert set(picked) <= {4, 8, 15, 16, 23, 42, 7}
    assert len(picked) <= SELECT_MAX
