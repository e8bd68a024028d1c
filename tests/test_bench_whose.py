"""The person-check benchmark's counting (scripts/bench/whose.py): logic, a scripted model."""

from __future__ import annotations

import json

from conftest import NOW

from agent.service import Papertape
from models.fake_generator import ScriptedGenerator
from scripts.bench.whose import check_rows, table


def test_each_check_is_counted_by_what_the_answer_was_judged(app: Papertape) -> None:
    to_anna = app.note("Hey Anna, I ran my first race today!", now=NOW, speaker="Bo").memory_id
    by_bo = app.note("I adopted a grey cat called Pixel.", now=NOW + 1, speaker="Bo").memory_id
    by_anna = app.note(
        "I bake sourdough bread every Sunday.", now=NOW + 2, speaker="Anna"
    ).memory_id

    def row(qid: str, category: int, question: str, answer: str, cited: int | None) -> dict:
        return {
            "id": qid,
            "category": category,
            "question": question,
            "answer": answer,
            "status": "answered",
            "citations": [cited],
        }

    rows = [
        row("q1", 5, "What did Anna run?", "Anna ran her first race.", to_anna),  # model: Bo's
        row("q2", 5, "Which cat did Anna adopt?", "A grey cat called Pixel.", by_bo),  # words
        row("q3", 4, "What does Anna bake?", "Sourdough bread every Sunday.", by_anna),  # hers
        row("q4", 4, "What did Anna run?", "Anna ran her first race.", to_anna),  # model: hers
        # Too few of its words in Bo's line to be supported; those it has are Bo's.
        row("q5", 5, "Which cat did Anna adopt?", "Pixel, a grey dog from the old shelter.", by_bo),
    ]
    labels = {"q3": "CORRECT", "q4": "CORRECT"}
    # Asked in row order: q1 and q4 as `ask` asks, q3 (her own line) only for the second count.
    generator = ScriptedGenerator(
        [json.dumps({"who": who, "holds": "yes"}) for who in ("Bo", "Bo", "Anna")]
    )
    counts = check_rows(app, generator, rows, labels)
    assert counts[("adversarial", "words")] == 1
    assert (counts[("adversarial", "asked")], counts[("adversarial", "model")]) == (1, 1)
    assert counts[("judged right", "answered")] == 2
    assert (counts[("judged right", "asked")], counts[("judged right", "model")]) == (1, 0)
    assert counts[("judged right", "words")] == 0
    assert counts[("judged right", "asked everywhere")] == 2  # q3 too
    assert counts[("judged right", "model everywhere")] == 1  # q3 read as Bo's
    assert (counts[("adversarial", "unsupported")], counts[("adversarial", "answered")]) == (1, 3)
    assert counts[("adversarial", "unsupported, not theirs")] == 1
    assert "| adversarial | 3 | 1 | 1 | 2 | 1 | 2 | 1 | 1 |" in table(counts)
    assert "| judged right | 2 | 0 | 1 | 0 | 2 | 1 |" in table(counts)
