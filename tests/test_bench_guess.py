"""The search-guess benchmark (scripts/bench/guess.py): its draws and its counting, with a
scripted model."""

from __future__ import annotations

import json
from pathlib import Path

from scripts.bench.guess import draws, measure, summary, table
from scripts.bench.locomo_data import Conversation, Question, Turn
from tests.facts_support import make_app, script
from tests.test_bench_answers import conversation


def test_the_held_out_draw_matches_the_samples_categories_and_shares_no_question() -> None:
    convs = [conversation("c1", 8), conversation("c2", 8)]
    chosen = draws(convs, 3, seed=3, held_seed=5)
    sample = [c for c in chosen if c[0] == "sample"]
    held = [c for c in chosen if c[0] == "held out"]
    assert sorted(q.category for *_, q in sample) == sorted([1, 2, 3, 4] * 3)
    assert sorted(q.category for *_, q in held) == sorted([1, 2, 3, 4] * 3)
    assert not {qid for _, qid, _, _ in sample} & {qid for _, qid, _, _ in held}
    assert chosen == draws(convs, 3, seed=3, held_seed=5)
    assert held != [c for c in draws(convs, 3, seed=3, held_seed=6) if c[0] == "held out"]


def test_evidence_found_only_through_the_guess_is_counted_as_better(home: Path) -> None:
    day = 1_683_540_000.0
    texts = [
        "Dana: What a week, the hobby shop by the station finally closed.",
        "Dana: My brother asked what hobby I would pick if I had time.",
        "Dana: I started pottery classes on Tuesdays.",
    ]
    turns = tuple(Turn(f"D1:{i}", 1, t, day + 60 * i) for i, t in enumerate(texts, start=1))
    question = Question("Which hobby did Dana take up?", "pottery", 4, ("D1:3",))
    conv = Conversation("c1", turns, (question,))
    with make_app(home, ask_k=1, context_hits=0) as app:
        ids = {}
        for turn in turns:
            stored = app.note(turn.text, now=turn.occurred_at).memory_id
            assert stored is not None
            ids[turn.dia_id] = stored
        generator = script(app, json.dumps({"line": "Dana started pottery classes."}))
        (shown,) = measure(app, generator, conv, [("sample", "c1:q0", question)], ids)
    assert (shown.alone, shown.guessed) == (0.0, 1.0)
    result = summary([shown])
    assert result["sample"]["all"]["better"] == 1
    assert result["sample"]["all"]["any_guessed"] == 1
    assert "| sample, all | 1 | 0.000 | 1.000 | None | 0 -> 1 | 1 / 0 |" in table(result)
