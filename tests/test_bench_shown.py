"""The evidence-shown benchmark (scripts/bench/shown.py): two settings compared on one store,
with the fake embedder and a scripted model (which only counts the prompt's tokens)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from scripts.bench.locomo_data import Conversation, Question, Turn, store_conversation
from scripts.bench.shown import compare, table
from tests.facts_support import make_app


def test_a_reply_found_only_through_what_it_answers_is_counted_where_it_is_shown(
    home: Path,
) -> None:
    day = 1_683_540_000.0
    said = [("Bo", f"filler line {i} about the weather and the news") for i in range(12)]
    said += [("Bo", "Did you go camping at the lake?"), ("Anna", "Yes! Rain all night.")]
    turns = tuple(
        Turn(f"D1:{i}", 1, f"{speaker}: {text}", day + 60 * i, speaker, text)
        for i, (speaker, text) in enumerate(said, start=1)
    )
    question = Question("Who went camping at the lake?", "Anna", 4, (turns[-1].dia_id,))
    conv = Conversation("c1", turns, (question,))
    with make_app(home, ask_k=2, context_hits=0) as app:
        ids = store_conversation(app, conv)
        changed = replace(app.settings, reply_context=False)
        (shown,) = compare(
            app, app.generator(), conv, [("sample", "c1:q0", conv, question)], ids, changed
        )
    assert shown == ("sample", "c1:q0", 4, 1.0, 0.0, True)
    assert "| sample, all | 1 | 1.000 | 0.000 | 1 -> 0 | 0 / 1 | 1 |" in table([shown])
