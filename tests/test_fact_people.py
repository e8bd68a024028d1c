"""Facts told of the wrong person: a fact naming one speaker that rests on lines another
speaker said, not naming them, is dropped and counted at consolidation (agent/people.py,
agent/memory/facts.py). The scripted generator writes the facts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.ingest.notes import NoteInput
from agent.memory.drafts import Draft
from agent.memory.facts import told_of_another
from agent.service import Papertape
from tests.conftest import NOW
from tests.facts_support import fact, make_app, script


@pytest.fixture
def app(home: Path) -> Iterator[Papertape]:
    with make_app(home) as papertape:
        yield papertape


def test_a_fact_giving_one_speakers_act_to_another_is_dropped_and_counted(app: Papertape) -> None:
    lines = [
        ("Ana", "We camped by the lake last weekend and saw two herons."),
        ("Ben", "Lovely! Ana, your photo of the tent is great."),
        ("Ben", "I finally fixed my bike, new chain and brakes."),
    ]
    results = app.note_many(
        [
            NoteInput(said, NOW + 60 * n, "chat-ana", speaker=who)
            for n, (who, said) in enumerate(lines)
        ],
        now=NOW,
    )
    ids = [r.memory_id for r in results if r.memory_id is not None]
    camped, photo, bike = ids
    script(
        app,
        {
            "facts": [
                fact([camped], "Ben camped by the lake and saw two herons."),  # Ana's act
                fact([bike], "Ana fixed her bike with a new chain and brakes."),  # Ben's act
                fact([camped], "Ana camped by the lake and saw two herons."),
                fact([photo], "Ana took a photo of the tent."),  # Ben's line names Ana: let be
                fact([bike], "Ben fixed his bike with a new chain and brakes."),
            ]
        },
    )
    report = app.consolidate(now=NOW + 3600)
    assert report.facts_misattributed == 2
    assert report.facts_unsupported == 0
    kept = sorted(app.store.get(i).text for i in report.facts)  # type: ignore[union-attr]
    assert kept == [
        "Ana camped by the lake and saw two herons.",
        "Ana took a photo of the tent.",
        "Ben fixed his bike with a new chain and brakes.",
    ]


def test_a_fact_naming_no_speaker_or_both_is_not_judged_by_whose_lines() -> None:
    shown = {1: "Ana: We camped by the lake.", 2: "Ben: I fixed my bike."}
    speakers = {1: "Ana", 2: "Ben"}
    people = ["Ana", "Ben"]

    def draft(ids: list[int], text: str) -> Draft:
        return Draft(text, "", tuple(ids), 3)

    assert told_of_another(draft([1], "Ben camped by the lake."), shown, speakers, people)
    assert not told_of_another(draft([1], "Someone camped by the lake."), shown, speakers, people)
    assert not told_of_another(draft([1, 2], "Ana and Ben camped."), shown, speakers, people)
    # In Chinese, names and words compared the same way.
    zh = {1: "小周：我们在湖边露营了。"}
    assert told_of_another(draft([1], "李雷在湖边露营了。"), zh, {1: "小周"}, ["小周", "李雷"])
    assert not told_of_another(draft([1], "小周在湖边露营了。"), zh, {1: "小周"}, ["小周", "李雷"])
