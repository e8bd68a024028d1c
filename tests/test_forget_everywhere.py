"""Forget leaves no copy of the words behind: not in a summary, a chat turn or the inbox.

Each test ends the same way: every file in the home (the store, its WAL and shared memory,
the cold file, logs, the inbox) is read byte by byte for a word only the forgotten memory
held, and none may hold it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.answer.session import Answer, ChatSession
from agent.memory.facts import FACT_MARK
from agent.memory.forgetting import HOLDERS_LOOKED_AT
from agent.memory.pages import render_page
from agent.memory.retention import DAY
from agent.service import Papertape
from agent.settings import load_settings
from models.fake_embedder import FakeEmbedder
from models.fake_generator import ScriptedGenerator
from tests.conftest import NOW, distil

WORD = "quokkaberg"  # held by the forgotten memory alone


def files_holding(home: Path, word: str) -> list[str]:
    needle = word.encode()
    return [
        str(path.relative_to(home))
        for path in sorted(home.rglob("*"))
        if path.is_file() and needle in path.read_bytes().lower()
    ]


@pytest.fixture
def app(home: Path) -> Iterator[Papertape]:
    settings = load_settings(home, overrides={"embedder": "fake", "summarizer": "extractive"})
    with Papertape(settings, embedder=FakeEmbedder(), generator=ScriptedGenerator()) as opened:
        yield opened


def test_forget_rewrites_the_summary_and_takes_the_chat_turns_that_cite_it(
    app: Papertape, home: Path
) -> None:
    secret = f"The {WORD} vault code is kept in the red binder. The binder is on the shelf."
    ids = [
        app.note(text, now=NOW + 60 * i, occurred_at=NOW + 60 * i, source="diary").memory_id
        for i, text in enumerate(
            [
                secret,
                "Dinner at a tiny fado bar in Alfama, grilled sardines and green wine.",
                "Took tram 28 up to the castle; the view over the river was stunning.",
            ]
        )
    ]
    forgotten, *others = ids
    assert forgotten is not None
    # A chat turn that quotes it.
    session = app.chat()
    first = session.ask(f"Where is the {WORD} vault code?", now=NOW + 600)
    assert forgotten in first.citations
    assert first.memory_id is not None
    # It fades, its words leaving for a gist: one summary for the episode, holding its
    # sentence in its text and on its page.
    distil(app, ids, "A vault code, a dinner and a tram.")  # type: ignore[arg-type]
    report = app.consolidate(now=NOW + 48 * DAY)
    (summary_id,) = report.summaries
    summary = app.store.get(summary_id)
    assert summary is not None
    assert WORD in summary.text
    page = app.store.blob(summary_id, "page")
    assert page is not None
    assert page.data == render_page(summary.text).data  # the sentence is drawn on it too
    assert app.recall(WORD, now=NOW + 48 * DAY, strengthen=False)

    gone = app.forget([forgotten])

    assert first.memory_id in gone
    assert summary_id not in gone
    rewritten = app.store.get(summary_id)
    assert rewritten is not None
    assert WORD not in rewritten.text.lower()
    page = app.store.blob(summary_id, "page")
    assert page is not None
    assert page.data == render_page(rewritten.text).data  # drawn again, without it
    assert {link.to_id for link in app.store.links_from(summary_id)} == set(others)
    assert all(i is not None and app.store.get(i) is not None for i in others)
    hits = app.recall(WORD, now=NOW + 48 * DAY, strengthen=False)
    assert all(WORD not in h.memory.text.lower() for h in hits)
    app.close()
    assert files_holding(home, WORD) == []


def test_a_chat_turn_quoting_it_unlinked_goes_and_one_holding_only_kept_words_stays(
    app: Papertape, home: Path
) -> None:
    forgotten = app.note(f"Mr. Demir gave the drill back, with a jar of {WORD} jam.", now=NOW)
    cited = app.note("Handed Mr. Demir the spare key on Monday.", now=NOW + 60)
    assert forgotten.memory_id is not None
    assert cited.memory_id is not None

    def asked(question: str, answer: str, now: float) -> Answer:
        reply = {"answer": answer, "status": "answered", "memory_ids": [cited.memory_id]}
        generator = ScriptedGenerator([json.dumps(reply)])
        return ChatSession(app.store, app.embedder, generator, app.settings).ask(question, now=now)

    quoting = asked("Does Mr. Demir have my drill?", f"He gave it back, {WORD} jam.", NOW + 600)
    keeping = asked("Who has the spare key?", "Mr. Demir has the spare key.", NOW + 700)
    assert quoting.memory_id is not None
    assert keeping.memory_id is not None
    assert forgotten.memory_id not in quoting.citations  # linked to the other note only

    gone = app.forget([forgotten.memory_id])

    assert quoting.memory_id in gone
    assert keeping.memory_id not in gone  # the note that stays holds all its words
    assert app.store.get(cited.memory_id) is not None
    app.close()
    assert files_holding(home, WORD) == []


def test_a_word_others_hold_keeps_its_chat_turn_however_many_passages_go(
    app: Papertape, tmp_path: Path
) -> None:
    # The keyword search for "harbour" ranks the chat turn (short, dense) first, then the
    # document's passages, more than it looks at, and the long note that holds it too last.
    filler = "ropes tide gulls boats nets sails " * 25
    log = tmp_path / "harbour-log.txt"
    days = (f"Day {i}: harbour {filler}harbour {filler}harbour." for i in range(80))
    log.write_text("\n\n".join(days), encoding="utf-8")
    (document,) = app.ingest([log], now=NOW)
    assert document.memory_id is not None
    walk = app.note(
        "Walked past the old fish market and the lighthouse, then along the harbour to the "
        + "ferry terminal, where the cafe sells good coffee and cinnamon buns. " * 6,
        now=NOW + 60,
    )
    reply = {"answer": "By the harbour.", "status": "answered", "memory_ids": [walk.memory_id]}
    # The model may first be asked whether the question asks when: the reply fits either.
    turn = ChatSession(
        app.store, app.embedder, ScriptedGenerator([json.dumps(reply)] * 2), app.settings
    ).ask("harbour harbour harbour?", now=NOW + 600)
    assert turn.memory_id is not None
    gone = app.forget([document.memory_id])
    assert len(gone) > HOLDERS_LOOKED_AT
    assert turn.memory_id not in gone  # the note holds "harbour" too


def test_a_summary_left_with_one_member_goes_with_the_forgotten_one(app: Papertape) -> None:
    ids = [
        app.note(text, now=NOW + 60 * i, occurred_at=NOW + 60 * i, source="diary").memory_id
        for i, text in enumerate(
            [f"The {WORD} gate opens at dawn.", "The orchard gate opens at dusk."]
        )
    ]
    (summary_id,) = app.consolidate(now=NOW + 48 * DAY).summaries
    gone = app.forget([ids[0]])  # type: ignore[list-item]
    assert summary_id in gone
    assert app.store.get(summary_id) is None
    assert app.store.blob(summary_id, "page") is None
    assert app.store.get(ids[1]) is not None  # type: ignore[arg-type]


def test_a_file_from_the_inbox_leaves_no_copy_once_forgotten(home: Path) -> None:
    from agent.daemon.client import open_papertape
    from agent.daemon.paths import configure_logging
    from tests.test_daemon import serve_in_thread, settings_for, wait_until

    settings = settings_for(home)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    configure_logging(settings, to_terminal=False)  # the daemon's log, in the home
    try:
        serving = serve_in_thread(settings)
        next(serving)
        inbox = home / "inbox"
        inbox.mkdir(exist_ok=True)
        (inbox / "vault.txt").write_text(f"The {WORD} vault code is kept in the red binder.")
        remote = open_papertape(settings)
        wait_until(
            lambda: bool(remote.recall(WORD, now=NOW, strengthen=False)),
            what="the inbox file stored",
        )
        wait_until(lambda: not (inbox / "vault.txt").exists(), what="the file taken")
        (hit,) = remote.recall(WORD, now=NOW, strengthen=False)
        assert remote.forget([hit.memory.id]) == [hit.memory.id]
        remote.close()
        assert (home / "logs" / "daemon.log").stat().st_size > 0
        assert files_holding(home, WORD) == []  # while the daemon still holds the store
        next(serving, None)  # stops the daemon
        assert files_holding(home, WORD) == []
    finally:
        for handler in root.handlers[:]:
            if handler not in handlers:
                root.removeHandler(handler)
                handler.close()
        root.setLevel(level)


def test_an_edit_forgets_the_words_it_takes_out(app: Papertape, home: Path) -> None:
    kept = app.note("The orchard gate opens at dusk.", now=NOW).memory_id
    edited = app.note(f"The {WORD} vault code is in the red binder.", now=NOW + 60).memory_id
    assert kept is not None
    assert edited is not None
    turn = app.chat().ask(f"Where is the {WORD} vault code?", now=NOW + 600)
    assert edited in turn.citations
    stale = distil(app, [edited], f"The {WORD} code is in a binder.")
    still_true = distil(app, [edited, kept], "A gate opens at dusk.")

    app.edit(edited, "The vault code is in the red binder.")

    assert app.store.get(turn.memory_id) is None  # type: ignore[arg-type]
    assert app.store.get(stale) is None
    assert app.store.get(still_true) is not None  # holds none of the words taken out
    assert edited not in app.store.marked(FACT_MARK)  # its facts are made again from the new text
    app.close()
    assert files_holding(home, WORD) == []
