"""Conversations kept in the store: `ask --session NAME` and `--continue` go on with the
questions and answers stored before, in-process, through the command line and the daemon."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import NOW
from hypothesis import given
from hypothesis import strategies as st
from test_chat import plant, reply, session

from agent.answer.history import read_turn, stored_conversation
from agent.answer.prompt import Turn
from agent.daemon.client import RemotePapertape, open_papertape
from agent.daemon.server import Daemon
from agent.service import Papertape
from agent.settings import Settings
from agent.turns import turn_text
from tests.facts_support import DAY, TRIP, episode, make_app
from tests.test_daemon import serve_in_thread, settings_for


@pytest.fixture
def running(home: Path) -> Iterator[Daemon]:
    yield from serve_in_thread(settings_for(home))


@given(
    question=st.text(min_size=1).map(lambda t: " ".join(t.split())).filter(bool),
    answer=st.text(min_size=1).filter(str.strip),
    status=st.sampled_from(["answered", "guess", "not_in_memories"]),
)
def test_a_stored_turn_reads_back_as_its_question_and_answer(
    question: str, answer: str, status: str
) -> None:
    assert read_turn(turn_text(question, answer, status)) == Turn(question, answer)


def test_text_not_in_a_turns_shape_is_no_turn() -> None:
    assert read_turn("a gist of the exchange") is None
    assert read_turn("Q: only a question") is None


def test_a_named_conversation_goes_on_from_its_stored_turns(app: Papertape) -> None:
    ids = plant(app)
    first = session(app, [reply("On Thursday", [ids[2]])], session="plumber")
    first.ask("When does the plumber come?", now=NOW)
    # A later `ask` in the same conversation: another process, another session object.
    later = session(app, [reply("At nine", [ids[2]])], session="plumber")
    answer = later.ask("What time?", now=NOW + 60)
    prompt = later.generator.prompts[-1]
    assert "When does the plumber come?" in prompt
    assert "On Thursday" in prompt
    assert ids[2] in [m.id for m in answer.memories]  # what the last answer cited stays in view
    assert answer.session == "plumber"
    assert stored_conversation(app.store, "plumber").turns == (
        Turn("When does the plumber come?", "On Thursday"),
        Turn("What time?", "At nine"),
    )
    # Another name, or none, starts afresh.
    other = session(app, [reply("4411", [ids[0]])], session="gym")
    other.ask("What is my locker code?", now=NOW + 120)
    assert "When does the plumber come?" not in other.generator.prompts[-1]
    assert app.last_conversation() == "gym"


def test_a_peek_in_a_conversation_sees_it_and_adds_nothing(app: Papertape) -> None:
    ids = plant(app)
    session(app, [reply("On Thursday", [ids[2]])], session="plumber").ask(
        "When does the plumber come?", now=NOW
    )
    peek = session(app, [reply("At nine", [ids[2]])], session="plumber", remember=False)
    peek.ask("What time?", now=NOW + 60)
    assert "On Thursday" in peek.generator.prompts[-1]
    assert len(stored_conversation(app.store, "plumber").turns) == 1


def test_ask_continue_follows_up_on_the_last_exchange(cli) -> None:
    cli("note", "The plumber Marek comes on Thursday at nine to fix the boiler.")
    cli("note", "My locker code at the gym is 4411.")
    first = json.loads(cli("ask", "-m", "fake", "--json", "When does the plumber come?").out)
    follow = cli("ask", "-m", "fake", "--json", "--continue", "what time?")
    assert follow.code == 0, follow.err
    second = json.loads(follow.out)
    assert second["session"] == first["session"]
    # What the first answer cited is shown again, though "what time?" alone would not find it.
    assert set(first["citations"]) <= {m["id"] for m in second["memories"]}
    plain = cli("ask", "-m", "fake", "Which locker code do I have?")
    assert plain.code == 0, plain.err
    shown = json.loads(cli("ask", "-m", "fake", "--json", "-c", "and then?").out)["session"]
    assert f"kept in conversation {shown}" in plain.out  # a plain answer names its conversation
    peek = json.loads(cli("ask", "-m", "fake", "--json", "--peek", "Which code?").out)
    assert peek["session"] == ""  # nothing kept, so no conversation to go on with
    named = cli("ask", "-m", "fake", "--json", "--session", "gym", "What is my locker code?")
    assert json.loads(named.out)["session"] == "gym"
    again = json.loads(cli("ask", "-m", "fake", "--json", "-c", "and the gym?").out)
    assert again["session"] == "gym"


def test_bad_conversation_options_are_one_sentence_and_exit_2(cli, settings: Settings) -> None:
    nothing = cli("ask", "-m", "fake", "--continue", "and then?")
    assert nothing.code == 2
    assert "no stored conversation to continue" in nothing.err
    assert not settings.store_path.exists()  # a fresh home is left as it was
    cli("note", "My locker code at the gym is 4411.")
    still = cli("ask", "-m", "fake", "--continue", "and then?")
    assert still.code == 2
    assert "no stored conversation to continue" in still.err
    both = cli("ask", "-m", "fake", "-c", "--session", "x", "and then?")
    assert both.code == 2
    assert "not both" in both.err
    empty = cli("ask", "-m", "fake", "--session", " ", "and then?")
    assert empty.code == 2
    assert "session name is empty" in empty.err
    assert "Traceback" not in nothing.err + both.err + empty.err


def test_the_daemon_goes_on_with_a_named_conversation(running: Daemon) -> None:
    remote = open_papertape(running.settings)
    assert isinstance(remote, RemotePapertape)
    remote.note("the gate code is 4411", now=NOW)
    remote.chat(session="gate").ask("what is the gate code?", now=NOW + 60)
    answer = remote.chat(session="gate").ask("and for the shed?", now=NOW + 120)
    assert answer.session == "gate"
    assert remote.last_conversation() == "gate"
    with running.lock:
        turns = stored_conversation(running.app.store, "gate").turns
    assert [t.question for t in turns] == ["what is the gate code?", "and for the shed?"]
    remote.close()


def test_past_exchanges_fade_without_a_summary(home: Path) -> None:
    with make_app(home, facts="off") as app:
        episode(app, NOW, TRIP, source="note")
        ids = plant(app)
        chat = session(app, [reply("4411", [ids[0]]), reply("Thursday", [ids[2]])])
        chat.ask("What is my locker code?", now=NOW + 60)
        chat.ask("When does the plumber come?", now=NOW + 120)
        app.consolidate(now=NOW + 120 * DAY, summarizer="extractive")
        summaries = [m for m in app.store.iter_memories() if m.kind == "summary"]
    assert [m.source for m in summaries] == ["note"]  # the notes' episode, not the chat's


def test_the_same_exchange_in_two_conversations_is_kept_in_each(app: Papertape) -> None:
    ids = plant(app)
    for name, now in (("monday", NOW), ("tuesday", NOW + 60)):
        answer = session(app, [reply("On Thursday", [ids[2]])], session=name).ask(
            "When does the plumber come?", now=now
        )
        assert answer.memory_id is not None
        assert stored_conversation(app.store, name).turns == (
            Turn("When does the plumber come?", "On Thursday"),
        )
    assert app.last_conversation() == "tuesday"
    # Within one conversation a text is still kept once.
    again = session(app, [reply("On Thursday", [ids[2]])], session="tuesday")
    again.ask("When does the plumber come?", now=NOW + 120)
    assert len(stored_conversation(app.store, "tuesday").turns) == 1
