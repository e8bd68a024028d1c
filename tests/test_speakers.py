"""Who said a memory, kept as structure beside its text, and the check that an answer about a
person rests on their lines (agent/people.py `whose_lines`; where someone
else's lines name the person, the model's reading of whose they are, agent/answer/whose.py)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import NOW
from hypothesis import given
from hypothesis import strategies as st

from agent.answer.session import Answer
from agent.answer.whose import WHO_MAX_CHARS, read_whose, someone_else
from agent.cli.output import answer_marks, ask_json
from agent.errors import UserError
from agent.ingest.notes import NoteInput
from agent.people import asked_about, named_elsewhere, whose_lines
from agent.service import Papertape
from models.fake_generator import ScriptedGenerator
from storage import MemoryStore

GITHUB_TOKEN = "ghp_" + "a1B2c3D4e5" * 4


def told_of_someone_else(
    question: str,
    answer: str,
    cited: dict[int, str],
    speakers: dict[int, str],
    people: list[str],
) -> str | None:
    """The person asked about, when the lines holding the answer are neither said by them
    nor name them: what the words alone mark."""
    found = whose_lines(question, answer, cited, speakers, people)
    return found[0] if found is not None and found[1] == "others" else None


# -- storage ---------------------------------------------------------------------------------


def test_the_store_keeps_speakers_beside_the_text_and_forgets_them_with_it(
    app: Papertape,
) -> None:
    store: MemoryStore = app.store
    ids = [app.note(f"line {i}", now=NOW).memory_id or 0 for i in range(4)]
    store.set_speaker(ids[0], "Anna")
    store.set_speaker(ids[1], "Bo")
    store.set_speaker(ids[2], "Anna")
    assert store.speakers_of(ids) == {ids[0]: "Anna", ids[1]: "Bo", ids[2]: "Anna"}
    assert store.speaker_names() == ["Anna", "Bo"]  # most lines first
    store.delete([ids[1]])
    assert store.speakers_of(ids) == {ids[0]: "Anna", ids[2]: "Anna"}
    left = store.conn.execute("SELECT count(*) FROM memory_speakers WHERE memory_id = ?", (ids[1],))
    assert next(iter(left))[0] == 0
    assert store.speaker_names() == ["Anna"]


# -- ingest ----------------------------------------------------------------------------------


def test_a_line_with_a_speaker_is_stored_as_they_said_it_and_is_theirs(app: Papertape) -> None:
    said = app.note("Ich ziehe im Mai nach Berlin.", now=NOW, speaker=" Anna ")
    plain = app.note("Ich ziehe im Mai nach Berlin.", now=NOW)
    assert said.memory_id is not None
    assert plain.memory_id is not None
    assert said.memory_id != plain.memory_id  # the same words by someone else are another line
    stored = app.store.get(said.memory_id)
    assert stored is not None
    assert stored.text == "Anna: Ich ziehe im Mai nach Berlin."
    assert app.store.speakers_of([said.memory_id, plain.memory_id]) == {said.memory_id: "Anna"}


def test_every_passage_of_a_long_line_is_the_speakers(app: Papertape) -> None:
    text = "\n\n".join(f"Absatz {i}. " + "Wort " * 150 for i in range(4))
    result = app.note(text, now=NOW, speaker="李雷")
    assert result.passages > 1
    ids = [m.id for m in app.store.iter_memories()]
    assert set(app.store.speakers_of(ids).values()) == {"李雷"}
    assert len(app.store.speakers_of(ids)) == len(ids)


def test_a_secret_in_a_speakers_name_is_redacted_before_it_is_written(app: Papertape) -> None:
    result = app.note("hello", now=NOW, speaker=GITHUB_TOKEN)
    assert result.redacted == 1
    assert result.memory_id is not None
    (name,) = app.store.speakers_of([result.memory_id]).values()
    assert GITHUB_TOKEN not in name
    stored = app.store.get(result.memory_id)
    assert stored is not None
    assert GITHUB_TOKEN not in stored.text


@pytest.mark.parametrize("speaker", ["", "   ", "Anna\nBo", "x" * 101])
def test_a_speaker_that_is_not_a_name_on_one_line_is_refused(app: Papertape, speaker: str) -> None:
    with pytest.raises(UserError, match="speaker must be a name"):
        app.note("hello", now=NOW, speaker=speaker)
    (rejected,) = app.note_many([NoteInput("hello", NOW, speaker=speaker)], now=NOW)
    assert rejected.status == "rejected"
    assert app.store.stats().memories == 0


def test_the_cli_stores_a_speaker_and_refuses_a_bad_one_in_one_sentence(cli) -> None:
    stored = cli("note", "see you at the pier", "--speaker", "Bo", "--json")
    assert stored.code == 0
    memory_id = json.loads(stored.out)["id"]
    found = json.loads(cli("recall", "pier", "--json", "-k", "1").out)["results"]
    assert [(hit["id"], hit["text"]) for hit in found] == [(memory_id, "Bo: see you at the pier")]
    refused = cli("note", "hello", "--speaker", "")
    assert refused.code == 2
    assert "speaker must be a name" in refused.err
    assert "Traceback" not in refused.err


def test_export_and_import_keep_the_speaker(app: Papertape, tmp_path: Path) -> None:
    from test_transfer import second_home

    said = app.note("the boat is at pier 4", now=NOW, speaker="Bo")
    assert said.memory_id is not None
    lines = list(app.export())
    assert json.loads(lines[0])["speaker"] == "Bo"
    with second_home(tmp_path) as other:
        other.import_(lines)
        (memory,) = other.store.iter_memories()
        assert other.store.speakers_of([memory.id]) == {memory.id: "Bo"}
    bad = json.loads(lines[0]) | {"speaker": ""}
    with second_home(tmp_path / "again") as other, pytest.raises(UserError, match="speaker"):
        other.import_([json.dumps(bad)])


# -- the check -------------------------------------------------------------------------------


def test_the_question_names_one_known_speaker_as_words_in_any_script() -> None:
    people = ["Anna", "Bo", "李雷"]
    assert asked_about("What did Anna realise after her race?", people) == "Anna"
    assert asked_about("Was hat anna nach dem Lauf gemerkt?", people) == "Anna"
    assert asked_about("李雷 跑步以后明白了什么？", people) == "李雷"
    assert asked_about("What did Annabel say?", people) is None  # a word, not a prefix
    assert asked_about("Did Anna and Bo meet?", people) is None  # two people: no one to check
    assert asked_about("Where is my passport?", people) is None


def test_an_answer_from_someone_elses_lines_is_told_of_someone_else() -> None:
    cited = {
        1: "Bo: I ran a charity race last week and realised self-care matters.",
        2: "Anna: That is great to hear!",
    }
    speakers = {1: "Bo", 2: "Anna"}
    question = "What did Anna realise after her charity race?"
    answer = "She realised self-care matters."
    assert told_of_someone_else(question, answer, cited, speakers, ["Anna", "Bo"]) == "Anna"
    # The same answer about Bo rests on Bo's own line.
    about_bo = "What did Bo realise after the race?"
    assert told_of_someone_else(about_bo, answer, cited, speakers, ["Anna", "Bo"]) is None


def test_a_line_that_names_the_person_asked_about_is_theirs_too() -> None:
    cited = {7: "Bo: Anna, your new flat in Leipzig looks lovely!"}
    answer = "Anna has a new flat in Leipzig."
    result = told_of_someone_else(
        "Where is Anna's new flat?", answer, cited, {7: "Bo"}, ["Anna", "Bo"]
    )
    assert result is None


def test_a_question_naming_no_one_is_checked_for_the_one_the_answer_names() -> None:
    cited = {
        7: "Anna: Can you pick up the spare key from the agency on Friday?",
        8: "Bo: Sure, I will get it after work, around 6pm.",
    }
    speakers = {7: "Anna", 8: "Bo"}
    people = ["Anna", "Bo"]
    wrong = "Anna will get the spare key after work, around 6pm."
    assert told_of_someone_else("and at what time?", wrong, cited, speakers, people) == "Anna"
    right = "Bo will get the spare key after work, around 6pm."
    assert told_of_someone_else("and at what time?", right, cited, speakers, people) is None
    # A bare name adds no words of its own to weigh.
    assert told_of_someone_else("Who gets the key?", "Anna", cited, speakers, people) is None


def test_nothing_is_decided_without_a_named_speaker_or_words_of_its_own() -> None:
    cited = {1: "Bo: I ran a race."}
    speakers = {1: "Bo"}
    # A question about the person themselves (notes without speakers): no one to check.
    assert told_of_someone_else("What did I run?", "a race", cited, speakers, ["Bo"]) is None
    # "Yes" adds no words: the meaning test decides, not this one.
    assert told_of_someone_else("Did Anna run?", "Yes", cited, speakers, ["Anna", "Bo"]) is None
    # An answer none of whose words are in what it cites is for the word test to mark.
    assert (
        told_of_someone_else("What did Anna eat?", "pancakes", cited, speakers, ["Anna", "Bo"])
        is None
    )


@given(
    asked=st.sampled_from(["Anna", "Bo"]),
    said_by=st.sampled_from(["Anna", "Bo"]),
    thing=st.sampled_from(["kayak", "violin", "Fahrrad", "风筝"]),
)
def test_the_check_fires_exactly_when_the_holding_line_is_someone_elses(
    asked: str, said_by: str, thing: str
) -> None:
    cited = {1: f"{said_by}: I bought a {thing} yesterday."}
    result = told_of_someone_else(
        f"What did {asked} buy?", f"a {thing}", cited, {1: said_by}, ["Anna", "Bo"]
    )
    assert result == (None if asked == said_by else asked)


# -- the answer ------------------------------------------------------------------------------


def test_an_answer_about_someone_from_anothers_line_is_shown_as_written_and_marked(
    app: Papertape,
) -> None:
    # Whose the lines are, alone: the fake embedder knows no meaning to say what a line is
    # about (that check is tested with MiniLM in tests/test_support.py).
    app.settings = replace(app.settings, question_min_similarity=-1.0)
    bo = app.note("I adopted a grey cat called Pixel.", now=NOW, speaker="Bo").memory_id
    anna = app.note("How lovely, congratulations!", now=NOW + 60, speaker="Anna").memory_id
    assert bo is not None
    assert anna is not None
    reply = {"answer": "Anna adopted a grey cat, Pixel.", "memory_ids": [bo], "status": "answered"}
    app._generator = ScriptedGenerator([json.dumps(reply)])
    app._models.clear()
    answer = app.chat().ask("Which cat did Anna adopt?", now=NOW + 120)
    assert answer.text == "Anna adopted a grey cat, Pixel."  # the model's words, kept
    assert answer.status == "answered"
    assert answer.not_of == "Anna"
    assert not answer.supported
    assert any("not Anna's" in mark for mark in answer_marks(answer))
    # Asked of Bo, the same line supports it.
    reply["answer"] = "Bo adopted a grey cat, Pixel."
    app._generator = ScriptedGenerator([json.dumps(reply)])
    app._models.clear()
    answer = app.chat().ask("Which cat did Bo adopt?", now=NOW + 180)
    assert answer.not_of is None
    assert answer.supported


def test_an_answer_its_lines_do_not_hold_says_so_when_they_are_someone_elses(
    app: Papertape,
) -> None:
    bo = app.note("I adopted a grey cat called Pixel.", now=NOW, speaker="Bo").memory_id
    app.note("How lovely!", now=NOW + 30, speaker="Anna")
    assert bo is not None
    # Few of its words are in Bo's line, so it is not supported; those that are, are Bo's.
    reply = {
        "answer": "Anna adopted Pixel, a grey dog from the old shelter downtown.",
        "memory_ids": [bo],
        "status": "answered",
    }
    app._generator = ScriptedGenerator([json.dumps(reply)])
    app._models.clear()
    app.settings = replace(app.settings, support_min_similarity=1.0)
    answer = app.chat(remember=False).ask("Which cat did Anna adopt?", now=NOW + 60)
    assert answer.text == reply["answer"]
    assert not answer.supported
    assert answer.not_of == "Anna"
    assert answer_marks(answer) == [
        "(not supported by your memories: the lines it rests on are not Anna's and do not "
        "name them)"
    ]


def test_lines_someone_else_said_that_name_the_person_are_for_the_model_to_read() -> None:
    people = ["Anna", "Bo"]
    said_to_anna = {3: "Bo: Hey Anna, I ran my first race today!"}
    question, answer = "What did Anna run?", "her first race"
    # The person check lets a line that names the person pass ...
    assert told_of_someone_else(question, answer, said_to_anna, {3: "Bo"}, people) is None
    # ... and hands it to the model, since words cannot tell "about" from "to".
    assert whose_lines(question, answer, said_to_anna, {3: "Bo"}, people) == ("Anna", "named")
    said_by_anna = {3: "Anna: Bo, I ran my first race today!"}
    assert whose_lines(question, answer, said_by_anna, {3: "Anna"}, people) == ("Anna", "theirs")
    unnamed = {3: "Bo: I ran my first race today!"}
    assert whose_lines(question, answer, unnamed, {3: "Bo"}, people) == ("Anna", "others")
    # A question naming no known speaker, or an answer adding no words: nothing to decide.
    assert whose_lines("Who ran?", "a race", said_to_anna, {3: "Bo"}, people) is None
    assert whose_lines("Did Anna run?", "Yes", said_to_anna, {3: "Bo"}, people) is None


def test_the_models_reading_marks_only_when_it_names_another_known_speaker() -> None:
    people = ["Anna", "Bo", "李雷"]
    assert someone_else("Bo", "Anna", people) == "Bo"
    assert someone_else("bo (her friend)", "Anna", people) == "Bo"
    assert someone_else("李雷", "Anna", people) == "李雷"
    assert someone_else("Anna", "Anna", people) is None  # the one asked about
    assert someone_else("Anna and Bo", "Anna", people) is None  # names them too
    assert someone_else("Matt, the singer", "Anna", people) is None  # no known speaker
    assert someone_else("", "Anna", people) is None


def test_the_model_reads_whose_a_line_naming_the_person_is_and_the_answer_is_marked(
    app: Papertape,
) -> None:
    # Whose the lines are, alone: the fake embedder knows no meaning to say what a line is
    # about (that check is tested with MiniLM in tests/test_support.py).
    app.settings = replace(app.settings, question_min_similarity=-1.0)
    said = app.note("Hey Anna, I ran my first race today!", now=NOW, speaker="Bo").memory_id
    app.note("Well done, I am proud of you!", now=NOW + 30, speaker="Anna")
    assert said is not None
    reply = {"answer": "Anna ran her first race.", "memory_ids": [said], "status": "answered"}
    whose = {"who": "Bo", "holds": "yes"}
    generator = ScriptedGenerator([json.dumps(reply), json.dumps(whose)])
    app._generator = generator
    app._models.clear()
    answer = app.chat(remember=False).ask("What did Anna run?", now=NOW + 60)
    assert answer.text == "Anna ran her first race."  # the model's words, kept
    assert (answer.not_of, answer.told_of) == ("Anna", "Bo")
    assert not answer.supported
    assert any("not Anna's: they tell it of Bo" in mark for mark in answer_marks(answer))
    # The second call showed the model the question, the answer and the line, not the person.
    assert "Hey Anna, I ran my first race today!" in generator.prompts[-1]
    assert "Anna ran her first race." in generator.prompts[-1]
    # Read as Anna's (the line is about her), the answer stands.
    whose["who"] = "Anna"
    app._generator = ScriptedGenerator([json.dumps(reply), json.dumps(whose)])
    app._models.clear()
    answer = app.chat(remember=False).ask("What did Anna run?", now=NOW + 120)
    assert (answer.not_of, answer.told_of) == (None, None)
    assert answer.supported


def test_a_speaker_the_answer_alone_names_in_passing_is_not_read_for(app: Papertape) -> None:
    app.settings = replace(app.settings, question_min_similarity=-1.0)
    app.note("I can take the cat, leave the key with Mr. Demir.", now=NOW, speaker="Anna")
    app.note("Heard it from Bo", now=NOW + 10, speaker="Bo")
    gift = app.note("Gift idea for Mara: a Polaroid camera, 180 EUR. Split with Bo.", now=NOW + 30)
    assert gift.memory_id is not None
    reply = {
        "answer": "A Polaroid camera, 180 EUR, split with Bo.",
        "memory_ids": [gift.memory_id],
        "status": "answered",
    }
    generator = ScriptedGenerator([json.dumps(reply), json.dumps({"who": "Anna", "holds": "no"})])
    app._generator = generator
    app._models.clear()
    answer = app.chat(remember=False).ask("What should I get Mara?", now=NOW + 60)
    # The note names Bo and holds the answer: words cannot say whose it tells, and Bo is not
    # whom the question asks about, so the model is not asked to read it.
    assert len(generator.prompts) == 1
    assert (answer.not_of, answer.told_of) == (None, None)
    assert answer.supported


def test_an_answer_naming_a_speaker_its_memories_do_not_name_is_found() -> None:
    people = ["Anna", "Bo", "李雷"]
    note = ["Jonas booked a table at Lupo for Friday dinner."]
    question = "Who booked the table for Friday dinner?"
    assert named_elsewhere("Anna booked the table at Lupo.", question, note, people) == "Anna"
    assert named_elsewhere("李雷订了桌子。", "谁订了桌子？", ["约纳斯订了桌子。"], people) == "李雷"
    # Named by the question, by what it cites, or as a cited line's speaker: not found.
    assert named_elsewhere("Anna booked it.", "Did Anna book it?", note, people) is None
    assert named_elsewhere("Bo booked it.", question, ["Bo: I booked Lupo!"], people) is None
    assert named_elsewhere("Jonas booked the table.", question, note, people) is None
    assert named_elsewhere("Anna booked it.", question, note, []) is None


def test_an_answer_naming_someone_its_memories_do_not_is_shown_as_written_and_marked(
    app: Papertape,
) -> None:
    app.note("Can you bring the salad on Friday?", now=NOW, speaker="Anna")
    booked = app.note("Jonas booked a table at Lupo for Friday dinner.", now=NOW + 30).memory_id
    assert booked is not None
    reply = {"answer": "Anna booked the table at Lupo.", "memory_ids": [booked]}
    app._generator = ScriptedGenerator([json.dumps(reply | {"status": "answered"})])
    app._models.clear()
    answer = app.chat(remember=False).ask("Who booked the table on Friday?", now=NOW + 60)
    assert answer.text == "Anna booked the table at Lupo."  # the model's words, kept
    assert answer.not_named == "Anna"
    assert not answer.supported
    assert any("does not name Anna" in mark for mark in answer_marks(answer))
    reply["answer"] = "Jonas booked the table at Lupo."
    app._generator = ScriptedGenerator([json.dumps(reply | {"status": "answered"})])
    app._models.clear()
    answer = app.chat(remember=False).ask("Who booked the table on Friday?", now=NOW + 120)
    assert answer.not_named is None
    assert answer.supported


def test_an_answer_telling_of_another_speaker_than_the_one_asked_about_is_marked(
    app: Papertape,
) -> None:
    app.settings = replace(app.settings, question_min_similarity=-1.0)
    ran = app.note("I ran a charity race on Saturday, so rewarding!", now=NOW, speaker="Bo")
    proud = app.note("So proud of you, that is super rewarding!", now=NOW + 30, speaker="Anna")
    assert ran.memory_id is not None
    assert proud.memory_id is not None
    cited = [ran.memory_id, proud.memory_id]

    def asked(answer: str, question: str) -> Answer:
        reply = {"answer": answer, "memory_ids": cited, "status": "answered"}
        app._generator = ScriptedGenerator([json.dumps(reply)])
        app._models.clear()
        return app.chat(remember=False).ask(question, now=NOW + 60)

    # Asked of Anna, the model tells Bo's race, though Anna's line holds its words too.
    found = asked("Bo found the race super rewarding.", "What did Anna find after her race?")
    assert found.text == "Bo found the race super rewarding."  # the model's words, kept
    assert (found.not_of, found.said_of) == ("Anna", "Bo")
    assert not found.supported
    assert "you asked about Anna; the answer tells it of Bo" in " ".join(answer_marks(found))
    assert ask_json(found)["said_of"] == "Bo"
    # Naming the one asked about too, or asked of no one, it is not marked for this.
    both = asked("Anna told Bo the race was super rewarding.", "What did Anna say of the race?")
    assert (both.said_of, both.supported) == (None, True)
    nobody = asked("Bo ran the race.", "Who ran a race on Saturday?")
    assert (nobody.said_of, nobody.supported) == (None, True)


@pytest.mark.needs("llama_cpp")
def test_a_random_model_reads_whose_within_the_schemas_bounds(tmp_path: Path) -> None:
    from tests.tiny_gguf import tiny_llama

    model = tiny_llama(tmp_path)
    lines = ["[3] (Mon 8 May 2023) Bo: Hey Anna, I ran my first race today!"]
    who = read_whose(model, "What did Anna run?", "her first race", lines)
    # Random weights write whatever the grammar allows: a name of bounded length, or nothing.
    assert len(who) <= WHO_MAX_CHARS
    assert who == who.strip()
