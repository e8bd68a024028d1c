"""The support-check benchmark's counting (scripts/bench/support.py): logic, a scripted model."""

from __future__ import annotations

import json
from dataclasses import replace

from conftest import NOW

from agent.answer.prompt import NO_MEMORIES
from agent.answer.schema import reply_start
from agent.service import Papertape
from models.fake_generator import ScriptedGenerator
from scripts.bench.support import (
    likelihood_gains,
    likelihood_table,
    ranked_above,
    row_cases,
    set_cases,
    table,
    verdicts,
)

ITEM = {
    "question": "What is Aunt Rosa's cat called?",
    "notes": ["2026-03-03: Aunt Rosa's cat is called Pixel."],
    "right": "Pixel",
    "right_kind": "verbatim",
    "wrong": "Mimi",
    "wrong_kind": "invented",
}


def use(app: Papertape, readings: list[str]) -> None:
    app._generator = ScriptedGenerator([json.dumps({"stated": r}) for r in readings])
    app._models.clear()


def test_each_way_is_counted_from_the_same_words_closeness_and_reading(app: Papertape) -> None:
    # The right answer's words are in the note; the made-up one's are not, and nothing is
    # close enough. The model says "stated" to both, as the 1.5B mostly does.
    app.settings = replace(app.settings, support_min_similarity=1.0)
    use(app, ["yes", "yes"])
    counts = verdicts(app, set_cases([ITEM]))
    assert counts[("right (verbatim)", "off")] == 1
    assert counts[("not supported (invented)", "off")] == 0
    assert counts[("not supported (invented)", "unshared")] == 1
    assert counts[("not supported (invented)", "every")] == 1
    use(app, ["no", "no"])
    counts = verdicts(app, set_cases([ITEM]))
    assert counts[("right (verbatim)", "unshared")] == 1  # its words pass it: not asked
    assert counts[("right (verbatim)", "every")] == 0
    assert "| not supported (invented) | 1 | 0 | 0 | 0 |" in table(counts)


def test_a_row_keeps_its_label_only_when_it_is_the_labelled_answer(app: Papertape) -> None:
    note = app.note("Rosa's cat is called Pixel.", now=NOW).memory_id
    assert note is not None
    row = {"id": "q1", "category": 4, "status": "answered", "citations": [note], "f1": 0.5}
    rows = [
        {**row, "question": "Cat's name?", "answer": "Pixel"},
        {**row, "id": "q2", "question": "Cat's name?", "answer": "Pixel", "f1": 0.25},
        {**row, "id": "q3", "category": 5, "question": "Dog's name?", "answer": "Pixel"},
        {**row, "id": "q4", "status": "not_in_memories", "question": "?", "answer": ""},
    ]
    labelled = {
        "q1": {"citations": [note], "f1": 0.5, "label": "CORRECT"},
        "q2": {"citations": [note], "f1": 0.5, "label": "CORRECT"},  # another answer's label
    }
    cases = list(row_cases(app, rows, labelled))
    assert [case[0] for case in cases] == ["judged right", "not labelled", "adversarial"]
    assert cases[0][3][0].startswith(f"[{note}] (")


class Scoring(ScriptedGenerator):
    """A scorer for logic: an answer is likelier by 3 nats over its 2 tokens when the
    prompt shows memories."""

    def logprobs(self, prompt: str, continuation: str) -> list[float]:
        self.prompts.append(prompt + continuation)
        return [-2.0, -2.0] if NO_MEMORIES in prompt else [-0.5, -0.5]


def test_the_likelihood_lines_add_is_read_per_token_and_ranked(app: Papertape) -> None:
    app._generator = Scoring()
    app._models.clear()
    gains = likelihood_gains(app, set_cases([ITEM]))
    assert gains == [("right (verbatim)", 1.5), ("not supported (invented)", 1.5)]
    with_lines, alone = app._generator.prompts[:2]
    assert ITEM["notes"][0] in with_lines
    assert NO_MEMORIES in alone
    assert ITEM["notes"][0] not in alone
    assert with_lines.endswith(reply_start("Pixel"))
    assert ranked_above([2.0, 1.0], [0.5, 1.0]) == 0.875
    text = likelihood_table([("right (a)", 1.0), ("right (a)", 3.0), ("not supported (b)", 2.0)])
    assert "| right (a) | 2 | +2.00 | +1.00 | +3.00 |" in text
    assert "in 0.50 of pairs (2 against 1)" in text
