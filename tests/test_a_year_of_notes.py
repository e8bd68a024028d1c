"""A year of a person's notes, consolidated month by month as the daemon would, read 18
months on: what matters still answers (a lease's rent and late fee, a moved appointment's new
time, a birthday), small talk is gone, and nothing else was deleted by time.

The facts are written by a note-taker standing in for the model (a line with a number in it
is a fact, a line without one is small talk, and the update it is told of is the one it
names), so this checks the tiers' logic; the real model writes them in the integration test
at the end.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent.answer.session import ChatSession
from agent.memory.retention import DAY
from agent.service import Papertape
from agent.settings import load_settings
from models.fake_embedder import FakeEmbedder
from models.fake_generator import ScriptedGenerator
from models.generator import JsonSchema
from tests.conftest import judgement

START = datetime(2024, 1, 3, 9, 0, tzinfo=UTC).timestamp()
MONTH = 30 * DAY
LEASE = (
    "Signed the lease for the flat on Elm Street: rent is 1450 a month, due on the 1st; "
    "the late fee is 75 after the 5th."
)
DENTIST = "Dentist appointment with Dr Okafor on 3 April at 10am."
MOVED = "Dr Okafor's office moved my dentist appointment to 9 April at 2pm."
BIRTHDAY = "Maria's birthday is on 12 June; she likes orchids."
# (day of the year, text): what matters, small talk, and ordinary days.
NOTES = [
    (0, LEASE),
    (20, "Ha, what a week, so tired."),
    (45, "Finally done with the boxes, the flat looks like home."),
    (70, DENTIST),
    (80, MOVED),
    (95, "lol, the cat knocked the plant over again"),
    (120, BIRTHDAY),
    (150, "Nice lazy sunday, nothing much going on"),
    (200, "Ran 12 km along the canal; the knee held up."),
    (260, "Such a grey rainy day, stayed in with tea"),
    (330, "Bought 2 tickets for the Porto trip in March."),
]
SMALL_TALK = [text for _, text in NOTES if not re.search(r"\d", text)]
_LINE = re.compile(r"^\[(\d+)\] \([^)]*\) (.*)$", re.MULTILINE)
_NEW_FACT = re.compile(r"^New fact, said on [^:]*: (.*)$", re.MULTILINE)
_OLDER_FACT = re.compile(r"^Older fact, said on [^:]*: (.*)$", re.MULTILINE)


class NoteTaker(ScriptedGenerator):
    """Writes a fact for each line with a number in it (small talk has none), names the
    older fact that `replaces` says a new fact replaces, rates everything 3 and sums up any
    episode alike."""

    def __init__(self, replaces: dict[str, str]) -> None:
        super().__init__()
        self.replaces = replaces

    def stream(
        self,
        prompt: str,
        *,
        max_tokens: int,
        stop: Sequence[str] = (),
        schema: JsonSchema | None = None,
    ) -> Iterator[str]:
        properties = (schema or {}).get("properties", {})
        if "facts" in properties:
            facts = [
                {"memory_ids": [int(i)], "text": text, "date": "", "importance": 4}
                for i, text in _LINE.findall(prompt)
                if re.search(r"\d", text)
            ]
            self.replies.append(json.dumps({"facts": facts}))
        elif "same_thing" in properties:
            new, older = _NEW_FACT.search(prompt), _OLDER_FACT.search(prompt)
            replaced = any(
                new and older and new_part in new.group(1) and old_part in older.group(1)
                for new_part, old_part in self.replaces.items()
            )
            self.replies.append(judgement(replaced))
        elif "Rating (1-5)" in prompt:
            self.replies.append("3")
        else:  # a summary
            self.replies.append("Notes of the month.")
        return super().stream(prompt, max_tokens=max_tokens, stop=stop, schema=schema)


def live_a_year(app: Papertape, months: int = 18) -> None:
    """Each note on its day; consolidation at the end of every month."""
    for month in range(months):
        for day, text in NOTES:
            at = START + day * DAY
            if month * MONTH <= day * DAY < (month + 1) * MONTH:
                app.note(text, now=at, occurred_at=at, source="notes")
        app.consolidate(now=START + (month + 1) * MONTH)


def store_bytes(home: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(home.rglob("*")) if p.is_file())


@pytest.fixture
def aged(home: Path) -> Iterator[Papertape]:
    settings = load_settings(home, overrides={"embedder": "fake", "summarizer": "model"})
    generator = NoteTaker(replaces={"9 April": "3 April"})
    with Papertape(settings, embedder=FakeEmbedder(), generator=generator) as app:
        live_a_year(app)
        yield app


def texts_recalled(app: Papertape, question: str, k: int = 5) -> list[str]:
    hits = app.recall(question, now=START + 18 * MONTH, k=k, strengthen=False)
    return [hit.memory.text for hit in hits]


def test_what_matters_still_answers_after_18_months(aged: Papertape) -> None:
    rent = texts_recalled(aged, "What is the rent for the flat and the late fee?")
    assert any("1450" in text and "75" in text for text in rent), rent
    assert any("12 June" in t for t in texts_recalled(aged, "When is Maria's birthday?"))
    # The moved appointment: its fact supersedes the first, and ask shows only the newer.
    session = ChatSession(aged.store, aged.embedder, ScriptedGenerator(), aged.settings)
    answer = session.ask("When is my dentist appointment?", now=START + 18 * MONTH)
    shown = [(memory.kind, memory.text) for memory in answer.memories]
    assert ("fact", MOVED) in shown, shown
    assert ("fact", DENTIST) not in shown  # superseded: history, not evidence
    # The old note said only what was replaced: kept as history, not shown as evidence.
    assert ("text", DENTIST) not in shown
    assert DENTIST in texts_recalled(aged, "dentist appointment", k=10)


def test_small_talk_is_gone_and_nothing_else_was_deleted(aged: Papertape, home: Path) -> None:
    stored = [memory.text for memory in aged.store.iter_memories()]
    for text in SMALL_TALK:
        assert text not in stored
    aged.store.checkpoint()
    on_disk = store_bytes(home)
    for words in (b"lazy sunday", b"knocked the plant", b"so tired"):
        assert words not in on_disk
    # Every note with something in it is still there, in some tier, and so is its fact.
    kept = [text for _, text in NOTES if text not in SMALL_TALK]
    facts = [m.text for m in aged.store.iter_memories() if m.kind == "fact"]
    assert sorted(facts) == sorted(kept)
    notes = [m for m in aged.store.iter_memories() if m.kind == "text"]
    assert len(notes) == len(kept)


@pytest.mark.integration
def test_the_real_model_keeps_what_matters_after_18_months(home: Path) -> None:
    # Summaries, facts and importance ratings all from the model, as the daemon runs it.
    settings = load_settings(home, overrides={"summarizer": "model", "model": "auto"})
    with Papertape(settings) as app:
        live_a_year(app)
        rent = " ".join(texts_recalled(app, "What is the rent for the flat and the late fee?"))
        assert "1450" in rent, rent
        assert "75" in rent, rent
        birthday = " ".join(texts_recalled(app, "When is Maria's birthday?"))
        assert "12 June" in birthday or "06-12" in birthday, birthday
        dentist = " ".join(texts_recalled(app, "When is my dentist appointment?"))
        assert "9 April" in dentist, dentist
        assert "2" in dentist, dentist
        # Which notes are small talk is the model's call here (it may find a fact in one, or
        # rate it up); the logic test above checks that what it calls small talk goes.
        facts = [m for m in app.store.iter_memories() if m.kind == "fact"]
        assert facts
