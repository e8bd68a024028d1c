"""The answer path: recall -> prompt -> structured generation -> one check -> store.

Logic is driven by the scripted generator (tokens are words; replies are given up front);
tests/test_generators.py runs the schema through llama.cpp with a tiny random-weight model,
and the integration tests at the end use the real SmolLM2.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import replace

import pytest
from conftest import NOW, memory
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.answer.prompt import INSTRUCTIONS, Turn, fit_prompt, memory_line
from agent.answer.schema import AnswerStream, answer_schema, read_reply
from agent.answer.session import ChatSession
from agent.errors import UserError
from agent.lines import render_line
from agent.service import Papertape
from models.fake_generator import KeepingGenerator, ScriptedGenerator
from models.generator import JsonSchema

FACTS = [
    "My locker code at the gym is 4411.",
    "Bought oat milk and bread at the corner shop.",
    "The plumber Marek comes on Thursday at nine to fix the boiler.",
]


def plant(app: Papertape, facts: Sequence[str] = FACTS) -> list[int]:
    ids = []
    for offset, text in enumerate(facts):
        result = app.note(text, now=NOW + offset, occurred_at=NOW - 86400 * (offset + 1))
        assert result.memory_id is not None
        ids.append(result.memory_id)
    return ids


def session(app: Papertape, replies: Sequence[str | None] = (), **kw: object) -> ChatSession:
    app._generator = ScriptedGenerator(replies, context_tokens=kw.pop("context", 2048))  # type: ignore[arg-type]
    app._models.clear()
    return app.chat(**kw)  # type: ignore[arg-type]


def reply(answer: str, ids: Sequence[int], status: str = "answered") -> str:
    return json.dumps({"answer": answer, "memory_ids": list(ids), "status": status})


# -- the prompt -----------------------------------------------------------------------------


def test_the_prompt_fits_the_context_and_keeps_the_best_memories_first() -> None:
    generator = ScriptedGenerator(context_tokens=300)
    memories = [memory(i, f"fact number {i} " + "word " * (5 if i != 2 else 150)) for i in range(6)]
    fitted = fit_prompt(generator, "which fact?", memories, [], answer_tokens=30)
    assert generator.count_tokens(fitted.prompt) == fitted.tokens <= 300 - 30
    ids = [m.id for m in fitted.memories]
    assert ids[:2] == [0, 1]
    assert 2 not in ids
    assert ids == sorted(ids)
    assert len(ids) >= 3
    assert fitted.prompt.index(memory_line(memories[0])) < fitted.prompt.index("[1]")


def test_the_prompt_budget_bounds_the_prompt_below_the_context() -> None:
    generator = ScriptedGenerator(context_tokens=4096)
    memories = [memory(i, "word " * 20) for i in range(100)]
    small = fit_prompt(generator, "q?", memories, [], answer_tokens=30, prompt_tokens=300)
    large = fit_prompt(generator, "q?", memories, [], answer_tokens=30, prompt_tokens=1200)
    assert small.tokens <= 300 < large.tokens <= 1200
    assert len(small.memories) < len(large.memories)


def test_the_most_relevant_memories_are_shown_facts_first_in_the_order_they_happened() -> None:
    generator = ScriptedGenerator(context_tokens=4096)
    day = 86400.0
    relevant_first = [
        replace(memory(7, "the best match"), occurred_at=NOW - 2 * day),
        replace(memory(3, "a fact"), kind="fact", occurred_at=NOW),
        replace(memory(5, "the second match"), occurred_at=NOW - 9 * day),
        replace(memory(9, "a poor match " + "word " * 40), occurred_at=NOW - 5 * day),
    ]
    fitted = fit_prompt(generator, "which?", relevant_first, [], answer_tokens=30)
    assert [m.id for m in fitted.memories] == [3, 5, 9, 7]
    lines = [line for line in fitted.prompt.split("\n") if line.startswith("[")]
    assert [line.split("]")[0] for line in lines] == ["[3", "[5", "[9", "[7"]
    # Where the budget is short, the least relevant is what is left out.
    budget = fitted.tokens - 10
    short = fit_prompt(
        generator, "which?", relevant_first, [], answer_tokens=30, prompt_tokens=budget
    )
    assert [m.id for m in short.memories] == [3, 5, 7]


def test_a_memory_line_opens_with_its_id_then_its_day_and_weekday() -> None:
    noon_7_may_2023 = 1_683_460_800.0  # 12:00 UTC: the same day in any time zone within 11 h
    assert render_line(12, noon_7_may_2023, " Caroline: went to the\n support  group ") == (
        "[12] (Sun 7 May 2023) Caroline: went to the support group"
    )


def test_history_gets_a_bounded_share_newest_first() -> None:
    generator = ScriptedGenerator(context_tokens=600)
    turns = [Turn(f"question {i} " + "x " * 20, f"answer {i}") for i in range(10)]
    fitted = fit_prompt(generator, "now?", [memory(1, "m")], turns, answer_tokens=100)
    kept = [t.question.split()[1] for t in fitted.turns]
    assert kept
    assert kept == [str(i) for i in range(10 - len(kept), 10)]
    assert sum(generator.count_tokens(t.question + t.answer) for t in fitted.turns) <= 500 * 0.25
    assert "question 0" not in fitted.prompt


def test_a_question_too_long_for_the_context_is_refused() -> None:
    with pytest.raises(ValueError, match="take"):
        fit_prompt(ScriptedGenerator(context_tokens=50), "word " * 100, [], [], answer_tokens=10)


# -- the schema and reading the reply -------------------------------------------------------


def test_the_schema_lets_the_model_cite_only_the_ids_shown_and_bounds_lengths() -> None:
    schema = answer_schema([7, 3, 7])
    props = schema["properties"]
    assert props["memory_ids"]["items"]["enum"] == [7, 3]
    assert props["memory_ids"]["maxItems"] >= 1
    assert props["answer"]["maxLength"] >= 50
    assert set(props["status"]["enum"]) == {"answered", "not_in_memories", "guess"}
    assert schema["required"] == ["answer", "memory_ids", "status"]


@given(
    answer=st.text(max_size=80),
    pieces=st.lists(st.integers(min_value=1, max_value=7), min_size=1, max_size=40),
)
@settings(max_examples=200, deadline=None)
def test_the_answer_streams_out_of_the_json_exactly_in_any_split(
    answer: str, pieces: list[int]
) -> None:
    raw = json.dumps({"answer": answer, "memory_ids": [1], "status": "answered"})
    stream, shown, at = AnswerStream(), "", 0
    for size in pieces * (len(raw) // max(1, sum(pieces)) + 1):
        shown += stream.feed(raw[at : at + size])
        at += size
    shown += stream.feed(raw[at:])
    assert shown == answer
    assert stream.done


def test_a_reply_cut_off_keeps_what_was_decoded_and_says_so() -> None:
    cut = '{"answer": "Barcelona, Barcelona, Barcel'
    read = read_reply(cut, [1], constrained=True)
    assert read.answer == "Barcelona, Barcelona, Barcel"
    assert not read.complete


def test_a_plain_text_reply_is_read_as_a_marked_answer_with_the_ids_it_names() -> None:
    read = read_reply("The code is 4411 [3] [99].", [3, 4], constrained=False)
    assert read.answer == "The code is 4411 [3] [99]."
    assert read.memory_ids == (3,)
    assert read.status == "guess"
    assert not read.constrained


# -- a session ------------------------------------------------------------------------------


def test_an_answer_cites_its_memory_streams_and_is_stored_as_chat(app: Papertape) -> None:
    ids = plant(app)
    chat = session(app, [reply("4411", [ids[0]])])
    streamed: list[str] = []
    answer = chat.ask("What is my locker code?", now=NOW + 100, on_token=streamed.append)
    # Only the answer field reaches the person, as it is decoded.
    assert "".join(streamed) == answer.text == "4411"
    assert answer.citations == (ids[0],)
    assert answer.status == "answered"
    assert answer.supported
    assert answer.constrained
    assert answer.trusted
    schema = chat.generator.schemas[-1]  # type: ignore[attr-defined]
    assert schema is not None
    assert set(schema["properties"]["memory_ids"]["items"]["enum"]) == {
        m.id for m in answer.memories
    }
    assert answer.ttft_s is not None
    assert answer.tokens_per_s
    assert answer.tokens_per_s > 0
    stored = app.store.get(answer.memory_id or -1)
    assert stored is not None
    assert stored.kind == "chat"
    assert stored.source == chat.source
    assert "Q: What is my locker code?" in stored.text
    assert "4411" in stored.text
    links = app.store.links_from(stored.id)
    assert [(link.to_id, link.relation) for link in links] == [(ids[0], "derived_from")]


def test_the_instructions_every_answer_prompt_opens_with_are_kept_read(app: Papertape) -> None:
    ids = plant(app)
    generator = KeepingGenerator([reply("4411", [ids[0]])])
    app._generator = generator
    app._models.clear()
    app.chat().ask("What is my locker code?", now=NOW + 100)
    (kept,) = generator.kept
    (prompt,) = generator.prompts
    assert prompt.startswith(kept)
    assert INSTRUCTIONS in kept
    assert "4411" not in kept
    assert "locker" not in kept


def test_an_answer_its_citations_do_not_hold_is_shown_as_written_and_marked(
    app: Papertape,
) -> None:
    ids = plant(app)
    # The right number, the wrong line: kept word for word, marked as not supported.
    answer = session(app, [reply("Hunter2 9876", [ids[1]])]).ask(
        "What is the wifi password?", now=NOW
    )
    assert answer.text == "Hunter2 9876"
    assert answer.status == "answered"
    assert not answer.supported
    assert not answer.trusted
    # The stored exchange keeps the check's verdict, not the model's "answered".
    assert answer.memory_id is not None
    stored = app.store.get(answer.memory_id)
    assert stored is not None
    assert stored.text.endswith("(not supported by the memories)")


def test_an_answer_citing_nothing_is_not_supported(app: Papertape) -> None:
    plant(app)
    answer = session(app, [reply("4411", [])]).ask("What is my locker code?", now=NOW)
    assert answer.text == "4411"
    assert not answer.supported


@pytest.mark.parametrize("status", ["not_in_memories", "guess"])
def test_a_declined_or_guessed_answer_keeps_the_models_words_and_status(
    app: Papertape, status: str
) -> None:
    ids = plant(app)
    answer = session(app, [reply("Probably jazz", [ids[0]], status)]).ask(
        "What music would I like?", now=NOW
    )
    assert answer.text == "Probably jazz"
    assert answer.status == status
    assert not answer.trusted


def test_with_no_memories_at_all_the_model_is_not_asked(app: Papertape) -> None:
    chat = session(app)
    answer = chat.ask("What is my locker code?", now=NOW)
    assert answer.status == "not_in_memories"
    assert answer.text == ""
    assert answer.citations == ()
    assert chat.generator.prompts == []  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "question",
    ["Wann ist mein Zahnarzttermin?", "我妈妈的生日是哪天？", "¿Cuándo viene el fontanero?"],
)
def test_a_question_in_any_language_reaches_the_model(app: Papertape, question: str) -> None:
    plant(app)
    chat = session(app)
    chat.ask(question, now=NOW)
    assert len(chat.generator.prompts) == 1  # type: ignore[attr-defined]
    assert question in chat.generator.prompts[0]  # type: ignore[attr-defined]


def test_chat_turns_are_history_not_evidence(app: Papertape) -> None:
    ids = plant(app)
    first = session(app, [reply("The code is 1234", [ids[0]])]).ask(
        "What is my locker code?", now=NOW
    )
    assert first.memory_id is not None
    # A later conversation does not see the earlier (wrong) answer as a source ...
    later = session(app).ask("What is my locker code?", now=NOW + 10)
    assert first.memory_id not in [m.id for m in later.memories]
    assert all(h.memory.kind != "chat" for h in app.recall("locker code", now=NOW + 20))
    # ... unless asked to, and then below what the person stored.
    hits = app.recall("locker code", now=NOW + 30, include_chat=True)
    kinds = [h.memory.kind for h in hits]
    assert "chat" in kinds
    assert kinds == sorted(kinds, key=lambda kind: kind == "chat")


def test_follow_ups_see_the_conversation_and_the_last_evidence(app: Papertape) -> None:
    ids = plant(app)
    chat = session(app, [reply("On Thursday", [ids[2]]), reply("At nine", [ids[2]])])
    chat.ask("When does the plumber come?", now=NOW)
    second = chat.ask("What time is it?", now=NOW + 5)
    prompt = chat.generator.prompts[-1]  # type: ignore[attr-defined]
    assert "When does the plumber come?" in prompt
    assert "On Thursday" in prompt
    assert ids[2] in [m.id for m in second.memories]
    assert all(m.source != chat.source for m in second.memories)


def test_ask_strengthens_what_the_answer_cites_not_all_it_was_shown(app: Papertape) -> None:
    ids = plant(app)
    answer = session(app, [reply("4411", [ids[0]])]).ask("What is my locker code?", now=NOW + 50)
    assert len(answer.memories) == len(FACTS)  # every note was shown
    got = app.store.get_many(ids)
    assert got[ids[0]].recall_count == 1
    assert got[ids[0]].last_recalled_at == NOW + 50
    assert [got[i].recall_count for i in ids[1:]] == [0, 0]
    # A citation the check does not back (the answer is not in it) strengthens nothing.
    unbacked = session(app, [reply("At 9pm sharp", [ids[1]])]).ask("Plumber?", now=NOW + 60)
    assert not unbacked.supported
    assert app.store.get(ids[1]).recall_count == 0  # type: ignore[union-attr]


def test_peek_stores_nothing_and_strengthens_nothing(app: Papertape) -> None:
    ids = plant(app)
    before = app.store.get(ids[0])
    answer = session(app, [reply("4411", [ids[0]])], remember=False).ask(
        "What is my locker code?", now=NOW + 50
    )
    assert answer.memory_id is None
    assert app.stats().memories == len(FACTS)
    assert app.store.get(ids[0]) == before


def test_an_empty_question_is_refused(app: Papertape) -> None:
    with pytest.raises(UserError, match="empty"):
        session(app).ask("   ", now=NOW)


class Interrupting(ScriptedGenerator):
    def stream(
        self,
        prompt: str,
        *,
        max_tokens: int,
        stop: Sequence[str] = (),
        schema: JsonSchema | None = None,
    ) -> Iterator[str]:
        yield '{"answer": "Your locker'
        raise KeyboardInterrupt


def test_ctrl_c_during_generation_leaves_the_store_consistent(app: Papertape) -> None:
    plant(app)
    app._generator = Interrupting()
    app._models.clear()
    chat = app.chat()
    with pytest.raises(KeyboardInterrupt):
        chat.ask("What is my locker code?", now=NOW)
    assert app.stats().memories == len(FACTS)  # no half-stored chat turn
    assert app.store.integrity_check() == "ok"
    assert chat.history == []


class Unconstrained(ScriptedGenerator):
    constrains_output = False


def test_a_backend_that_cannot_constrain_gets_no_schema_and_is_marked(app: Papertape) -> None:
    ids = plant(app)
    app._generator = Unconstrained([f"Your code is 4411 [{ids[0]}]."])
    app._models.clear()
    answer = app.chat().ask("What is my locker code?", now=NOW)
    assert app._generator.schemas == [None]
    assert not answer.constrained
    assert answer.citations == (ids[0],)
    assert answer.text == f"Your code is 4411 [{ids[0]}]."
    assert answer.status == "guess"


# -- properties: the answer shown is the model's -------------------------------------------

_ANSWERS = st.one_of(
    st.sampled_from(["Yes", "No", "Yes.", "No, she did not.", "hunter2", "wiki.example.com/team"]),
    st.text(min_size=0, max_size=60),
)


@given(
    answer=_ANSWERS,
    cite=st.lists(st.integers(min_value=-5, max_value=40), max_size=6),
    status=st.sampled_from(["answered", "not_in_memories", "guess"]),
)
@settings(max_examples=60, deadline=None)
def test_the_answer_shown_is_the_models_answer_field_and_cites_only_what_was_shown(
    shared_app: Papertape, answer: str, cite: list[int], status: str
) -> None:
    # The schema would stop a real model from naming an id it was not shown; the scripted
    # one writes any, so this also checks that reading the reply keeps only shown ids. With
    # the search guess on, its call comes first: it is searched, never shown.
    guess = json.dumps({"line": "My locker code is 1234."})
    chat = session(shared_app, [guess, reply(answer, cite, status)], remember=False)
    streamed: list[str] = []
    result = chat.ask("What is my locker code, and is it 4411?", now=NOW, on_token=streamed.append)
    shown = {m.id for m in result.memories}
    assert result.guess == "My locker code is 1234."
    assert result.text == answer.strip()
    assert "".join(streamed) == answer
    assert set(result.citations) <= shown
    assert result.status == status


@pytest.fixture(scope="module")
def shared_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Papertape]:
    from agent.settings import load_settings

    home = tmp_path_factory.mktemp("shared") / "home"
    app = Papertape(load_settings(home, overrides={"embedder": "fake", "search_guess": True}))
    plant(app)
    yield app
    app.close()


def test_the_best_memories_bring_what_came_right_after_them(app: Papertape) -> None:
    def said(text: str, minutes: float, source: str = "chat-ana") -> int:
        at = NOW - 86400 + 60 * minutes
        result = app.note(text, now=NOW, occurred_at=at, source=source)
        assert result.memory_id is not None
        return result.memory_id

    asked = said("Ben: how did the marathon go?", 0)
    other = said("Cy: my marathon shoes are blue", 0.5, source="chat-cy")
    answered = said("Ana: third place, 41 minutes!", 1)
    later = said("Ana: off to bed now", 2)
    said("Ana: and a new episode the next morning", 12 * 60)

    def shown(hits: int, after: int = 0) -> list[int]:
        settings = replace(app.settings, ask_k=1, context_hits=hits, context_after=after)
        generator = ScriptedGenerator([reply("Third place", [asked])])
        chat = ChatSession(app.store, app.embedder, generator, settings, remember=False)
        return [m.id for m in chat.ask("How did the marathon go?", now=NOW).memories]

    assert shown(1, 2) == [asked, answered, later]
    assert shown(1, 1) == [asked, answered]
    assert shown(0) == [asked]
    assert other not in shown(1, 5)
