"""Facts after they are made: updates between them, forgetting, fading, export and import."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from agent.answer.session import ChatSession
from agent.cli.output import consolidation_text, recall_json, recall_text
from agent.errors import UserError
from agent.memory.drafts import needed_sources
from agent.memory.facts import FACT_MARK
from agent.memory.transfer import is_memory_line
from agent.memory.updates import update_schema
from agent.service import Papertape
from models.fake_generator import ScriptedGenerator
from tests.conftest import NOW, judgement
from tests.facts_support import DAY, TRIP, derived, episode, fact, make_app, script


@pytest.fixture
def app(home: Path) -> Iterator[Papertape]:
    with make_app(home) as papertape:
        yield papertape


# -- updates ---------------------------------------------------------------------------------

DENTIST = "Ana's dentist appointment is on 5 March at 10am."


def _dentist(app: Papertape) -> tuple[int, int]:
    """The fact of a first note and that note's id."""
    first = episode(app, NOW, ["Ana: my dentist appointment is on 5 March at 10am."])
    script(app, {"facts": [fact(first, DENTIST)]})
    (old,) = app.consolidate(now=NOW + 3600).facts
    return old, first[0]


def test_an_update_is_linked_and_ask_shows_only_the_newer(app: Papertape) -> None:
    old, first = _dentist(app)
    moved = "Ana's dentist appointment moved to 7 March at 2pm."
    second = episode(app, NOW + 2 * DAY, ["Ana: my dentist appointment moved to 7 March at 2pm."])
    generator = script(app, {"facts": [fact(second, moved)]}, judgement(True))
    report = app.consolidate(now=NOW + 2 * DAY + 3600)
    (new,) = report.facts
    assert report.fact_updates == [(new, old)]
    assert f"#{new} updates #{old} (not an update? papertape current {old})" in (
        consolidation_text(report)
    )
    # The model was shown the older fact, not the note it came from, and judged it.
    assert DENTIST in generator.prompts[-1]
    assert "my dentist" not in generator.prompts[-1]
    assert generator.schemas[-1] == update_schema()
    assert {(link.to_id, link.relation) for link in app.store.links_from(new)} == {
        (second[0], "derived_from"),
        (old, "supersedes"),
    }
    assert app.store.get(old) is not None  # kept as history
    chat = ChatSession(app.store, app.embedder, ScriptedGenerator(), app.settings)
    answer = chat.ask("When is the dentist appointment?", now=NOW + 3 * DAY)
    shown = [m.id for m in answer.memories]
    assert new in shown
    assert old not in shown
    assert shown.index(new) < shown.index(second[0])  # facts before verbatim lines
    # The first note said only what was replaced: history, not evidence (recall finds it).
    assert first not in shown
    hits = {hit.memory.id: hit for hit in app.recall("dentist", now=NOW + 3 * DAY, k=10)}
    assert first in hits
    # recall says which fact is history, and what updated it.
    assert hits[old].replaced_by == new
    assert hits[new].replaced_by is None
    assert f"history: updated by #{new}" in recall_text([hits[old]])
    assert recall_json("dentist", [hits[old]])["results"][0]["replaced_by"] == new


def test_an_update_linked_by_mistake_is_undone_and_both_facts_are_shown(
    app: Papertape, cli: Any
) -> None:
    old, first = _dentist(app)
    other = "Ana's brother has a dentist appointment on 7 March at 2pm."
    second = episode(app, NOW + 2 * DAY, ["Ana: my brother sees the dentist on 7 March at 2pm."])
    script(app, {"facts": [fact(second, other)]}, judgement(True))  # the model is wrong
    (new,) = app.consolidate(now=NOW + 2 * DAY + 3600).facts
    assert app.replaced_by(old) == new
    assert f"history: updated by #{new}" in cli("recall", "dentist").out
    chat = ChatSession(app.store, app.embedder, ScriptedGenerator(), app.settings)
    shown = [m.id for m in chat.ask("When is the dentist appointment?", now=NOW + 3 * DAY).memories]
    assert first not in shown

    done = cli("current", str(old))
    assert (done.code, done.out.strip()) == (
        0,
        f"#{old} is current again (no longer updated by #{new})",
    )
    assert app.replaced_by(old) is None
    assert app.store.get(new) is not None  # both facts stay
    assert [link.relation for link in app.store.links_from(new)] == ["derived_from"]
    # Neither fact replaces the other now: each answers through the note it rests on, and
    # the first note, history while its fact was replaced, is evidence again.
    chat = ChatSession(app.store, app.embedder, ScriptedGenerator(), app.settings)
    shown = [m.id for m in chat.ask("When is the dentist appointment?", now=NOW + 3 * DAY).memories]
    assert {first, second[0]} <= set(shown)
    assert "history" not in cli("recall", "dentist").out

    # Given the newer fact's id instead, nothing is undone, and the right id is named.
    moved = app.note("Ana's dentist appointment moved to 9 March.", now=NOW + 4 * DAY).memory_id
    assert moved is not None
    app.store.link(moved, old, "supersedes")
    assert cli("current", str(moved)).out.strip() == (
        f"#{moved} was not marked as updated; nothing changed (it updates #{old}: give that id)"
    )
    again = json.loads(cli("current", str(moved), "--json").out)
    assert again == {"current": [{"id": moved, "no_longer_updated_by": []}]}
    assert app.replaced_by(old) == moved  # the newer id given: nothing was undone
    again = json.loads(cli("current", str(old), "--json").out)
    assert again == {"current": [{"id": old, "no_longer_updated_by": [moved]}]}
    missing = cli("current", "999")
    assert missing.code == 2
    assert "no memory with id 999" in missing.err


def test_a_note_whose_facts_were_updated_is_marked_history_and_restored_by_its_id(
    app: Papertape, cli: Any
) -> None:
    old, first = _dentist(app)
    moved = "Ana's dentist appointment moved to 7 March at 2pm."
    second = episode(app, NOW + 2 * DAY, ["Ana: my dentist appointment moved to 7 March at 2pm."])
    script(app, {"facts": [fact(second, moved)]}, judgement(True))
    (new,) = app.consolidate(now=NOW + 2 * DAY + 3600).facts
    assert app.replaced_by(first) == new  # the note says what the newer fact replaced
    assert app.replaced_by(second[0]) is None
    listed = json.loads(cli("recall", "dentist", "--peek", "--json").out)
    marked = {hit["id"]: hit.get("replaced_by") for hit in listed["results"]}
    assert marked[first] == new
    assert marked[second[0]] is None
    # `current` with the note's id undoes the update of its fact.
    done = json.loads(cli("current", str(first), "--json").out)
    assert done == {"current": [{"id": first, "no_longer_updated_by": [new]}]}
    assert app.replaced_by(old) is None
    assert app.replaced_by(first) is None


def test_a_note_with_a_fact_not_replaced_is_still_shown(app: Papertape) -> None:
    first = episode(app, NOW, ["Ana: my dentist appointment is on 5 March at 10am, Dr Weber."])
    script(app, {"facts": [fact(first, DENTIST), fact(first, "Ana's dentist is Dr Weber.")]})
    old, _ = app.consolidate(now=NOW + 3600).facts
    moved = "Ana's dentist appointment moved to 7 March at 2pm."
    second = episode(app, NOW + 2 * DAY, ["Ana: my dentist appointment moved to 7 March at 2pm."])
    script(app, {"facts": [fact(second, moved)]}, judgement(True), judgement(False))
    report = app.consolidate(now=NOW + 2 * DAY + 3600)
    assert report.fact_updates == [(report.facts[0], old)]
    chat = ChatSession(app.store, app.embedder, ScriptedGenerator(), app.settings)
    shown = [m.id for m in chat.ask("Who is the dentist?", now=NOW + 3 * DAY).memories]
    assert first[0] in shown  # it still holds a fact of its own


def test_a_look_alike_the_model_does_not_name_is_not_linked(app: Papertape) -> None:
    old, _ = _dentist(app)
    second = episode(app, NOW + 2 * DAY, ["Ana: a second dentist appointment, 9 April at 10am."])
    text = "Ana has a second dentist appointment on 9 April at 10am."
    script(app, {"facts": [fact(second, text)]}, judgement(False, same_thing=False))
    report = app.consolidate(now=NOW + 2 * DAY + 3600)
    assert report.fact_updates == []
    assert len(report.facts) == 1
    assert not app.store.links_to(old) or all(
        link.relation != "supersedes" for link in app.store.links_to(old)
    )
    assert app.generator().replies == []  # type: ignore[attr-defined]  # the model was asked


@pytest.mark.parametrize(("floor", "judged"), [(-1.0, True), (1.0, False)])
def test_the_update_floor_decides_which_stored_facts_the_model_judges(
    home: Path, floor: float, judged: bool
) -> None:
    # An embedder whose cosines sit in a narrow band sets its own floor (models/e5.py).
    with make_app(home, update_min_similarity=floor) as app:
        _dentist(app)
        second = episode(app, NOW + 2 * DAY, ["Ana: dentist moved to 7 March at 2pm."])
        moved = "Ana's dentist appointment moved to 7 March at 2pm."
        generator = script(app, {"facts": [fact(second, moved)]}, judgement(True))
        report = app.consolidate(now=NOW + 2 * DAY + 3600)
        assert bool(report.fact_updates) is judged
        assert (DENTIST in generator.prompts[-1]) is judged


def test_a_fact_said_earlier_is_not_an_update_of_a_later_one(app: Papertape) -> None:
    later = episode(app, NOW + 5 * DAY, ["Ana: my dentist appointment is on 5 March at 10am."])
    script(app, {"facts": [fact(later, DENTIST)]})
    app.consolidate(now=NOW + 5 * DAY + 3600)
    # Stored afterwards, but said three days before: it cannot update what came after it.
    earlier = episode(app, NOW + 2 * DAY, ["Ana: dentist appointment on 5 March at 9am."])
    generator = script(
        app, {"facts": [fact(earlier, "Ana's dentist appointment is on 5 March at 9am.")]}
    )
    report = app.consolidate(now=NOW + 5 * DAY + 7200)
    assert len(report.facts) == 1
    assert report.fact_updates == []
    assert len(generator.prompts) == 2  # two extractions and no update question


def test_a_later_fact_of_the_same_episode_updates_an_earlier_one(app: Papertape) -> None:
    # Typed minutes apart: one episode, read by the model at once, both times written.
    first, second = episode(
        app,
        NOW,
        [
            "Ana: my dentist appointment is on 5 March at 10am.",
            "Ana: the dentist called, my appointment moved to 7 March at 2pm.",
        ],
    )
    moved = "Ana's dentist appointment moved to 7 March at 2pm."
    generator = script(
        app, {"facts": [fact([first], DENTIST), fact([second], moved)]}, judgement(True)
    )
    report = app.consolidate(now=NOW + 3600)
    old, new = report.facts
    assert report.fact_updates == [(new, old)]
    assert DENTIST in generator.prompts[-1]  # the earlier fact was the one judged
    assert len(generator.prompts) == 2  # the earlier-said fact is compared with nothing
    chat = ChatSession(app.store, app.embedder, ScriptedGenerator(), app.settings)
    shown = [m.id for m in chat.ask("When is the dentist?", now=NOW + DAY).memories]
    assert new in shown
    assert old not in shown


def test_facts_said_at_the_same_time_are_not_updates_of_each_other(app: Papertape) -> None:
    (line,) = episode(
        app, NOW, ["Ana: my dentist appointment is on 5 March at 10am, a second on 9 April."]
    )
    generator = script(
        app,
        {
            "facts": [
                fact([line], DENTIST),
                fact([line], "Ana has a second dentist appointment on 9 April."),
            ]
        },
    )
    report = app.consolidate(now=NOW + 3600)
    assert len(report.facts) == 2
    assert report.fact_updates == []
    assert len(generator.prompts) == 1  # no update question: neither was said before the other


def test_a_fact_rests_only_on_the_cited_lines_it_needs() -> None:
    day = "Mon 13 October 2025"
    old = (1, "Dentist appointment with Dr. Keller on Tuesday 14 October at 9:30", day)
    moved = (2, "The dentist moved my appointment to Thursday 16 October at 15:00", day)
    gate = (3, "The gate code for the bike shed is 2580", day)
    # A line cited beside the one that supports the fact alone is let go.
    assert needed_sources(
        "The dentist appointment is now on 16 October at 15:00.", "", [old, moved]
    ) == (2,)
    assert needed_sources("The gate code for the bike shed is 2580.", "", [gate, old]) == (3,)
    # Two lines that each hold part of it are both kept, in the order cited.
    both = "Dr. Keller's appointment moved from 9:30 to 15:00."
    assert needed_sources(both, "", [moved, old]) == (2, 1)
    # Two lines that each support it alone are both sources: forgetting one leaves it.
    again = (6, "The gate code for the bike shed is 2580, remember", day)
    assert needed_sources("The gate code for the bike shed is 2580.", "", [gate, again]) == (3, 6)
    # In any language: Chinese characters are words one each.
    said = (4, "李明: 我下周二去看牙医。", day)
    reply = (5, "王芳: 好的！", day)
    assert needed_sources("李明下周二去看牙医。", "", [reply, said]) == (4,)


def test_forgetting_a_memory_forgets_the_facts_that_need_it(app: Papertape) -> None:
    ids = episode(app, NOW, [*TRIP, "Ana: the hotel is on Rua Augusta, and it is lovely."])
    script(
        app,
        {
            "facts": [
                fact([ids[0]], "Ana flew to Lisbon on Friday."),
                fact([ids[0], ids[3]], "Ana's hotel is on Rua Augusta."),
                fact([ids[2], ids[1]], "Ana ate grilled sardines in Alfama."),
            ]
        },
    )
    alone, shared, needs = app.consolidate(now=NOW + 3600).facts
    gone = app.forget([ids[0], ids[2]])
    assert alone in gone  # it rests on nothing else
    assert needs in gone  # "grilled" and "Alfama": only the forgotten memory held them
    assert shared not in gone
    assert app.store.get(shared) is not None
    assert derived(app, shared) == [ids[3]]  # it lost only the forgotten link


def test_no_word_of_a_forgotten_fact_is_left_in_any_file(app: Papertape, home: Path) -> None:
    (note,) = episode(app, NOW, ["Ana: my locker code is zanzibarquokka, locker 512."])
    script(app, {"facts": [fact([note], "Ana's locker code is zanzibarquokka.")]})
    (fact_id,) = app.consolidate(now=NOW + 3600).facts

    def files_holding(word: bytes) -> list[str]:
        app.store.checkpoint()
        return [p.name for p in home.rglob("*") if p.is_file() and word in p.read_bytes()]

    assert files_holding(b"Ana's locker code is zanzibarquokka")  # the fact is on disk
    app.forget([note])
    assert app.store.get(fact_id) is None
    assert files_holding(b"zanzibarquokka") == []


def test_an_export_keeps_what_was_read_for_facts(app: Papertape, tmp_path: Path) -> None:
    ids = episode(app, NOW, TRIP)
    script(app, {"facts": [fact([ids[0]], "Ana flew to Lisbon on Friday.")]})
    (made,) = app.consolidate(now=NOW + 3600).facts
    exported = list(app.export())
    assert all("marks" in json.loads(line) for line in exported if is_memory_line(line))
    with make_app(tmp_path / "other") as other:
        other.import_(exported)
        assert other.store.marked(FACT_MARK) == set(ids)
        assert derived(other, made) == [ids[0]]
        assert other.consolidate(now=NOW + 7200).fact_episodes == 0  # nothing read twice


def test_a_fading_fact_keeps_its_words_in_every_tier(app: Papertape) -> None:
    ids = episode(app, NOW, TRIP)
    text = "Ana ate grilled sardines in Alfama for 14 euros."
    script(app, {"facts": [fact([ids[2]], text, importance=1)]})
    (made,) = app.consolidate(now=NOW + 3600, summarizer="model").facts
    hazy = app.consolidate(now=NOW + 60 * DAY, summarizer="extractive")  # S 7 days, pace 8
    fact_now = app.store.get(made)
    assert fact_now is not None
    assert fact_now.tier == "hazy"
    assert fact_now.text == text
    assert app.store.blob(made, "page") is None  # no page: it is a sentence already
    (summary,) = hazy.summaries
    assert {link.to_id for link in app.store.links_from(summary)} == set(ids)  # not the fact
    app.consolidate(now=NOW + 200 * DAY, summarizer="extractive")
    archived = app.store.get(made)
    assert archived is not None
    assert archived.tier == "archive"
    assert archived.text == text


def test_a_chat_turn_citing_a_forgotten_fact_goes_with_it(app: Papertape) -> None:
    (note,) = episode(app, NOW, ["Ana: my locker code is zanzibarquokka, locker 512."])
    script(app, {"facts": [fact([note], "Ana's locker code is zanzibarquokka.")]})
    (fact_id,) = app.consolidate(now=NOW + 3600).facts
    # One candidate a search: the fact, without the line it was drawn from, which would
    # otherwise stand for it (agent/answer/recall.py). The scripted model quotes what it is
    # shown first.
    settings = replace(app.settings, recall_candidates=1, ask_k=1)
    chat = ChatSession(app.store, app.embedder, ScriptedGenerator(), settings)
    answer = chat.ask("zanzibarquokka?", now=NOW + 7200)
    assert answer.citations == (fact_id,)
    assert answer.memory_id is not None
    gone = app.forget([note])
    assert set(gone) == {note, fact_id, answer.memory_id}


def test_an_import_refuses_a_fact_whose_hash_is_not_its_words(
    app: Papertape, tmp_path: Path
) -> None:
    (note,) = episode(app, NOW, ["Ana: I flew to Lisbon on Friday."])
    script(app, {"facts": [fact([note], "Ana flew to Lisbon on Friday.")]})
    app.consolidate(now=NOW + 3600)
    lines = [json.loads(line) for line in app.export()]
    for record in lines:
        if record.get("kind") == "fact":
            record["text"] = "Ana flew to Porto on Friday."
    with make_app(tmp_path / "other") as other, pytest.raises(UserError, match="content hash"):
        other.import_([json.dumps(record) for record in lines])
