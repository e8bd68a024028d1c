"""Time words: the period "last week" names, read by the model, worked out in code, kept
beside the text and shown in every prompt.

The calendar arithmetic is pure; the reading runs on the scripted generator for its logic,
on a tiny random-weight GGUF for the schema's path through llama.cpp, and on the real
default model in the integration suite.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from agent.answer.prompt import fit_prompt
from agent.cli.output import consolidation_json, consolidation_text
from agent.errors import UserError
from agent.lines import render_line
from agent.memory.facts import FACT_MARK
from agent.memory.times import (
    EXAMPLES,
    TIME_MARK,
    TIME_TOKENS,
    TimeReader,
    read_time,
    time_schema,
)
from agent.service import Papertape
from agent.settings import load_settings
from agent.when import named_period
from models.fake_embedder import FakeEmbedder
from models.fake_generator import KeepingGenerator, ScriptedGenerator
from models.generator import ChatMessage, generate
from storage import TimeWords
from tests.facts_support import DiesOnSecondCall, episode, fact, make_app, script
from tests.tiny_gguf import tiny_llama


def at(year: int, month: int, day: int) -> float:
    """Noon, local time, that day (the arithmetic works on local days)."""
    return datetime(year, month, day, 12).timestamp()


MON_8_MAY = at(2023, 5, 8)


def reply(unit: str, offset: int, words: str) -> dict[str, object]:
    """The model's reply for time words counting `offset` units (0: none)."""
    when = "none" if offset == 0 else ("past" if offset < 0 else "future")
    return {"words": words, "unit": unit, "when": when, "count": abs(offset) or 1}


# -- the calendar ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("unit", "offset", "said_on", "period"),
    [
        ("day", -1, MON_8_MAY, "Sun 7 May 2023"),
        ("day", 2, at(2023, 5, 31), "Fri 2 June 2023"),
        ("saturday", -1, MON_8_MAY, "Sat 6 May 2023"),
        ("saturday", -1, at(2023, 5, 6), "Sat 29 April 2023"),  # said on a Saturday
        ("saturday", 1, at(2023, 5, 6), "Sat 13 May 2023"),
        ("monday", -2, at(2023, 5, 10), "Mon 1 May 2023"),
        ("friday", 0, MON_8_MAY, "Fri 12 May 2023"),  # this Friday: in the day's week
        ("week", -1, at(2023, 6, 9), "week of Mon 29 May 2023"),
        ("week", 2, MON_8_MAY, "week of Mon 22 May 2023"),
        ("weekend", 0, MON_8_MAY, "weekend of Sat 13 May 2023"),
        ("weekend", -1, MON_8_MAY, "weekend of Sat 6 May 2023"),
        ("month", -1, at(2023, 1, 15), "December 2022"),
        ("month", 9, at(2023, 5, 31), "February 2024"),
        ("year", -2, MON_8_MAY, "2021"),
    ],
)
def test_the_period_is_counted_from_the_memorys_day(
    unit: str, offset: int, said_on: float, period: str
) -> None:
    assert named_period(TimeWords("then", unit, offset), said_on) == period


@pytest.mark.parametrize("unit", ["day", "week", "month", "year"])
def test_the_memorys_own_day_week_month_or_year_names_nothing_new(unit: str) -> None:
    assert named_period(TimeWords("now", unit, 0), MON_8_MAY) is None


def test_time_words_must_name_a_known_unit() -> None:
    with pytest.raises(ValueError, match="unknown time unit"):
        TimeWords("later", "fortnight", 1)
    with pytest.raises(ValueError, match="empty"):
        TimeWords("", "day", 1)


# -- reading the model's reply ---------------------------------------------------------------


def test_a_reply_is_kept_only_when_its_words_are_in_the_text() -> None:
    text = "Caroline: I went to a support group  Yesterday and it was powerful."
    kept = read_time(json.dumps(reply("day", -1, "yesterday")), text)
    assert kept == TimeWords("yesterday", "day", -1)
    # The memory's day as the prompt writes it, or the instructions' own example: not in it.
    assert read_time(json.dumps(reply("day", -1, "Mon 8 May 2023")), text) is None
    assert read_time(json.dumps(reply("week", -1, "last week")), text) is None


def test_a_reply_naming_no_other_time_keeps_nothing() -> None:
    text = "Melanie: I painted that lake sunrise last year!"
    assert read_time(json.dumps(reply("none", 0, "")), text) is None
    assert read_time(json.dumps(reply("year", 0, "last year")), text) is None  # no direction
    assert read_time(json.dumps(reply("none", -1, "last year")), text) is None  # no unit
    assert read_time(json.dumps(reply("year", -1, "")), text) is None
    assert read_time(json.dumps({**reply("year", -1, "last year"), "count": 0}), text) is None
    assert read_time('{"words": "last year", "unit": "ye', text) is None  # cut off
    assert read_time("[]", text) is None
    assert read_time(json.dumps(reply("year", -1, "last year")), text) == TimeWords(
        "last year", "year", -1
    )


def test_words_writing_a_number_keep_only_that_count() -> None:
    passport = "My passport expires in 2031."
    assert read_time(json.dumps(reply("year", 1, "2031")), passport) is None
    married = "Melanie: 5 years already! Time flies."
    assert read_time(json.dumps(reply("year", -1, "5 years already")), married) is None
    assert read_time(json.dumps(reply("year", -5, "5 years")), married) == TimeWords(
        "5 years", "year", -5
    )
    # Digits of another script are numbers too; words without digits are not checked.
    assert read_time(json.dumps(reply("day", -3, "٣ days ago")), "I left ٣ days ago.") is not None
    assert read_time(json.dumps(reply("year", -3, "三年前")), "三年前我去了北京。") is not None


def test_a_weekday_written_with_its_date_is_not_read_as_the_next_one() -> None:
    def kept(words: str, unit: str, offset: int, text: str) -> bool:
        return read_time(json.dumps(reply(unit, offset, words)), text) is not None

    assert not kept("Tuesday", "tuesday", 1, "Dentist on Tuesday 14 October at 9:30")
    assert not kept("Tuesday", "week", 1, "Dentist on Tuesday 14 October at 9:30")
    assert not kept("Dienstag", "tuesday", 1, "Zahnarzt am Dienstag 14.10. um 9:30")
    assert not kept("周二", "tuesday", 1, "周二（10月14日）看牙医")
    assert not kept("Tuesday", "tuesday", 1, "Dentist on 10/14 (Tuesday)")
    # A number it counts, or one past the end of its sentence, leaves it a time.
    assert kept("days ago", "day", -2, "I left 2 days ago.")
    assert kept("yesterday", "day", -1, "I got back yesterday. 3 of us went.")
    assert kept("last week", "week", -1, "I ran a half marathon last week, 2 hours 4 minutes.")
    assert kept("next Tuesday", "tuesday", 1, "Dentist next Tuesday at 9:30")
    assert kept("Friday", "friday", 1, "Dinner with Jonas on Friday 19:30")
    assert kept("下周二", "tuesday", 1, "我下周二去看牙医。")


def test_words_in_any_language_are_checked_alike() -> None:
    german = "Ich war letzte Woche in Rom."
    chinese = "我上个月去了北京。"
    assert read_time(json.dumps(reply("week", -1, "letzte Woche")), german) is not None
    assert read_time(json.dumps(reply("month", -1, "上个月")), chinese) is not None
    assert read_time(json.dumps(reply("month", -1, "下个月")), chinese) is None


def test_the_schema_asks_for_the_words_then_the_unit_and_direction_they_decide() -> None:
    properties = time_schema()["properties"]
    assert list(properties) == ["words", "unit", "when", "count"]
    # An empty phrase is not a way out: the model names one, and the unit says if it is a time.
    assert properties["words"]["minLength"] == 1
    assert properties["when"]["enum"] == ["past", "future", "none"]
    assert properties["unit"]["enum"][0] == "none"
    assert "saturday" in properties["unit"]["enum"]
    assert properties["count"]["enum"][0] == 1


# -- what the model is shown -----------------------------------------------------------------


def test_the_worked_examples_are_replies_the_reader_would_keep_or_let_go() -> None:
    # Each example line opens with its day, as the reader shows a memory; its reply must
    # read back as the example means it, or the model learns from a reply papertape drops.
    kept = [read_time(json.dumps(reply), line.split(") ", 1)[1]) for line, reply in EXAMPLES]
    assert [k.offset if k else 0 for k in kept] == [
        {"past": -1, "future": 1}.get(r["when"], 0) * r["count"] for _, r in EXAMPLES
    ]
    assert any(k is None for k in kept)
    assert any(k and k.offset > 0 for k in kept)
    properties = time_schema()["properties"]
    for _, reply in EXAMPLES:
        assert list(reply) == list(properties)
        assert reply["unit"] in properties["unit"]["enum"]


def test_a_line_shows_the_period_while_its_text_holds_the_words() -> None:
    time = TimeWords("yesterday", "day", -1)
    line = render_line(3, MON_8_MAY, "Ana: I went to the dentist yesterday.", time)
    assert line == (
        '[3] (Mon 8 May 2023) Ana: I went to the dentist yesterday. ("yesterday": Sun 7 May 2023)'
    )
    # Cut to a gist without the words, or naming the memory's own day: the line alone.
    assert render_line(3, MON_8_MAY, "Ana: I went to the dentist", time).endswith("dentist")
    same_day = TimeWords("today", "day", 0)
    assert render_line(3, MON_8_MAY, "Ana: today", same_day) == "[3] (Mon 8 May 2023) Ana: today"


def test_the_answer_prompt_shows_each_memorys_period(home: Path) -> None:
    with make_app(home) as app:
        ids = episode(app, MON_8_MAY, ["Ana: the move was last month.", "Ana: I like tea."])
        memories = [m for m in app.store.get_many(ids).values()]
        times = {ids[0]: TimeWords("last month", "month", -1)}
        fitted = fit_prompt(
            app.generator(), "When did Ana move?", memories, [], answer_tokens=64, times=times
        )
        assert '("last month": April 2023)' in fitted.prompt
        assert fitted.prompt.count("April 2023") == 1


def test_ask_shows_the_stored_periods_to_the_model(home: Path) -> None:
    with make_app(home) as app:
        (moved,) = episode(app, MON_8_MAY, ["Ana: we moved to Porto last month."])
        app.store.set_time(moved, TimeWords("last month", "month", -1))
        generator = app.generator()
        assert isinstance(generator, ScriptedGenerator)
        answer = app.chat(remember=False).ask("When did Ana move to Porto?", now=MON_8_MAY + 60)
        assert '("last month": April 2023)' in generator.prompts[-1]
        assert answer.citations == (moved,)


# -- reading at consolidation ----------------------------------------------------------------


def test_consolidation_reads_each_memory_once_and_keeps_what_holds(home: Path) -> None:
    with make_app(home, time_words="auto") as app:
        ids = episode(
            app, MON_8_MAY, ["Ana: I saw the dentist yesterday.", "Ben: nice!", "Ana: a gift"]
        )
        generator = script(
            app,
            reply("day", -1, "yesterday"),
            reply("none", 0, ""),
            reply("week", -1, "last week"),  # words the memory does not hold
            {"facts": [fact([ids[0]], "Ana saw the dentist on Sun 7 May 2023.")]},
        )
        seen: list[tuple[int, int, int]] = []
        report = app.consolidate(
            now=MON_8_MAY + 3600,
            progress=lambda d, t, _: seen.append((d, t, len(generator.prompts))),
        )
        assert seen[:2] == [(0, 3, 0), (1, 3, 1)]  # the bar is up before the model's first call
        assert report.times_read == 3
        assert report.times_found == [ids[0]]
        assert app.store.times_of(ids) == {ids[0]: TimeWords("yesterday", "day", -1)}
        assert app.store.marked(TIME_MARK) == set(ids)
        # Each memory is read after the worked examples, as the last turn.
        assert generator.prompts[0].index(EXAMPLES[-1][0]) < generator.prompts[0].index(
            "Ana: I saw the dentist yesterday."
        )
        # The facts prompt shows the period, and a fact naming it is supported by it.
        assert '("yesterday": Sun 7 May 2023)' in generator.prompts[3]
        assert len(report.facts) == 1
        assert app.store.marked(FACT_MARK) == set(ids)
        # Stored text is never rewritten.
        assert app.store.get(ids[0]).text == "Ana: I saw the dentist yesterday."  # type: ignore[union-attr]
        assert "Time words: 1 of 3 memories read name another time" in consolidation_text(report)
        assert consolidation_json(report)["time_words"] == {"read": 3, "kept": [ids[0]]}
        calls = len(generator.prompts)
        again = app.consolidate(now=MON_8_MAY + 7200)
        assert again.times_read == 0
        assert len(generator.prompts) == calls


def test_the_worked_examples_are_kept_read_for_every_memory(home: Path) -> None:
    with make_app(home) as app:
        ids = episode(app, MON_8_MAY, ["Ana: I saw the dentist yesterday.", "Ben: see you"])
        none = json.dumps(reply("none", 0, ""))
        generator = KeepingGenerator([none, none])
        reader = TimeReader(app.store, generator)
        for memory in app.store.get_many(ids).values():
            reader.read(memory)
        first, second = generator.kept
        assert first == second
        assert EXAMPLES[-1][0] in first
        assert all(prompt.startswith(first) for prompt in generator.prompts)
        assert "dentist" not in first
        assert "see you" not in first


def test_a_killed_reading_resumes_at_the_next_memory(home: Path) -> None:
    settings = load_settings(home, overrides={"embedder": "fake", "facts": "off"})
    first = json.dumps(reply("day", 1, "tomorrow"))
    with Papertape(settings, embedder=FakeEmbedder(), generator=DiesOnSecondCall([first])) as app:
        ids = episode(app, MON_8_MAY, ["Ana: the exam is tomorrow.", "Ana: wish me luck"])
        with pytest.raises(KeyboardInterrupt):
            app.consolidate(now=MON_8_MAY + 3600)
        assert app.store.marked(TIME_MARK) == {ids[0]}
        assert set(app.store.times_of(ids)) == {ids[0]}
    with make_app(home, time_words="auto", facts="off") as app:
        script(app, reply("none", 0, ""))
        report = app.consolidate(now=MON_8_MAY + 3600)
        assert report.times_read == 1
        assert app.store.marked(TIME_MARK) == set(ids)


def test_time_words_off_or_extractive_read_nothing(home: Path) -> None:
    with make_app(home, time_words="off") as app:
        episode(app, MON_8_MAY, ["Ana: the exam is tomorrow."])
        assert app.consolidate(now=MON_8_MAY + 3600).times_read == 0
    with make_app(home, time_words="auto") as app:
        assert app.consolidate(now=MON_8_MAY + 3600, summarizer="extractive").times_read == 0
        assert app.store.marked(TIME_MARK) == set()


# -- kept beside the text: storage, forgetting, export ---------------------------------------


def test_time_words_are_stored_beside_the_text_and_forgotten_with_it(home: Path) -> None:
    with make_app(home) as app:
        ids = episode(app, MON_8_MAY, [f"note {i}, last week" for i in range(600)])
        for memory_id in ids:
            app.store.set_time(memory_id, TimeWords("last week", "week", -1))
        assert len(app.store.times_of(ids)) == 600  # past SQLite's bound on parameters
        app.store.set_time(ids[0], TimeWords("week", "week", -2))  # read again: replaced
        assert app.store.times_of([ids[0]]) == {ids[0]: TimeWords("week", "week", -2)}
        app.forget([ids[0]])
        assert app.store.times_of([ids[0]]) == {}
        query = "SELECT count(*) FROM memory_times WHERE memory_id = ?"
        assert next(iter(app.store.conn.execute(query, (ids[0],))))[0] == 0


def test_export_and_import_keep_the_time_words(home: Path, tmp_path: Path) -> None:
    with make_app(home) as app:
        (moved,) = episode(app, MON_8_MAY, ["Ana: we moved last month."])
        app.store.set_time(moved, TimeWords("last month", "month", -1))
        app.store.mark([moved], TIME_MARK)
        exported = list(app.export())
    with make_app(tmp_path / "other") as other:
        other.import_(exported)
        (memory,) = list(other.store.iter_memories())
        kept = other.store.times_of([memory.id])
        assert kept == {memory.id: TimeWords("last month", "month", -1)}
        assert TIME_MARK in other.store.marks_of(memory.id)
    record = json.loads(exported[0])
    for bad in ({"words": "x", "unit": "fortnight", "offset": 1}, {"words": "x"}, "last month"):
        with make_app(tmp_path / "third") as third, pytest.raises(UserError, match="'time'"):
            third.import_([json.dumps({**record, "time": bad})])


# -- the runtime path: a random model held to the schema ------------------------------------


@pytest.mark.needs("llama_cpp")
def test_a_random_model_answers_only_in_the_schemas_shape(home: Path, tmp_path: Path) -> None:
    model = tiny_llama(tmp_path)
    with make_app(home) as app:
        ids = episode(app, MON_8_MAY, ["Ana: the exam is tomorrow.", "Ben: good luck"])
        reader = TimeReader(app.store, model)
        for memory_id in ids:
            memory = app.store.get(memory_id)
            assert memory is not None
            kept = reader.read(memory)
            # Random weights write whatever the grammar allows; only words the text holds stay.
            assert kept is None or kept.words.casefold() in memory.text.casefold()
        assert app.store.marked(TIME_MARK) == set(ids)
        prompt = model.format_chat([ChatMessage("user", "Ana: the exam is tomorrow.")])
        raw = generate(model, prompt, max_tokens=TIME_TOKENS, schema=time_schema())
        data = json.loads(raw, strict=False)
        assert list(data) == ["words", "unit", "when", "count"]
        assert data["unit"] in time_schema()["properties"]["unit"]["enum"]
        assert 1 <= len(data["words"]) <= 30
    model.close()


# -- the real default model -------------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.needs("qwen2.5-coder-1.5b", "llama_cpp")
def test_the_default_model_dates_yesterday(home: Path) -> None:
    """The path with the real model; how often it is right, and how often it finds a time in
    a line naming none, is measured in docs/BENCHMARKS.md (it does, now and then: for
    "Good to see you!" it gives day +1)."""
    settings = load_settings(
        home, overrides={"embedder": "fake", "model": "qwen2.5-coder-1.5b", "facts": "off"}
    )
    with Papertape(settings, embedder=FakeEmbedder()) as app:
        dated, plain = episode(
            app,
            MON_8_MAY,
            ["Caroline: I went to a support group yesterday.", "Melanie: Good to see you!"],
        )
        # The phrase in the middle of a long chat line, which the reading that allowed an
        # empty phrase let go.
        (inside,) = episode(
            app,
            MON_8_MAY + 600,
            [
                "Priya: Hey Sam, great to hear from you! The earrings I bought yesterday remind "
                "me of my grandmother, she wore a pair just like them. How is work going?"
            ],
        )
        app.consolidate(now=MON_8_MAY + 3600)
        times = app.store.times_of([dated, plain, inside])
        assert dated in times
        assert inside in times
        assert named_period(times[dated], MON_8_MAY) == "Sun 7 May 2023"
        assert named_period(times[inside], MON_8_MAY + 600) == "Sun 7 May 2023"
        assert app.store.marked(TIME_MARK) == {dated, plain, inside}
        if plain in times:  # whatever it kept, the line holds
            assert times[plain].words.casefold() in "melanie: good to see you!"


# -- what the person sees --------------------------------------------------------------------


def test_an_edit_has_the_time_words_read_again(home: Path) -> None:
    with make_app(home, time_words="auto", facts="off") as app:
        (memory_id,) = episode(app, MON_8_MAY, ["Ana: the exam is tomorrow."])
        script(app, reply("day", 1, "tomorrow"))
        app.consolidate(now=MON_8_MAY + 3600)
        assert app.time_words(memory_id) == TimeWords("tomorrow", "day", 1)
        app.edit(memory_id, "Ana: the exam is next week.")
        assert app.time_words(memory_id) is None
        script(app, reply("week", 1, "next week"))
        assert app.consolidate(now=MON_8_MAY + 7200).times_found == [memory_id]
        assert app.time_words(memory_id) == TimeWords("next week", "week", 1)


async def test_the_inspector_shows_the_period_the_words_name(home: Path) -> None:
    from tui.app import PapertapeApp
    from tui.inspector import Inspector

    with make_app(home) as app:
        (memory_id,) = episode(app, MON_8_MAY, ["Ana: we moved to Porto last month."])
        app.store.set_time(memory_id, TimeWords("last month", "month", -1))
        ui = PapertapeApp(app, clock=lambda: MON_8_MAY + 60)
        async with ui.run_test(size=(120, 30)) as pilot:
            ui.push_screen(Inspector(memory_id))
            await pilot.pause()
            await ui.workers.wait_for_complete()
            await pilot.pause()
            head = str(ui.screen.query_one("#head").render())
            assert '"last month": April 2023' in head


def test_words_cut_to_a_gist_take_their_time_words_with_them(home: Path) -> None:
    with make_app(home) as app:
        kept, cut = episode(
            app, MON_8_MAY, ["Ana: yesterday we signed the lease.", "Ben: Tom moved last week."]
        )
        for memory_id, words in ((kept, "yesterday"), (cut, "last week")):
            app.store.set_time(memory_id, TimeWords(words, "day", -1))
        app.store.move_to_tier(kept, "hazy", text="Ana: yesterday we signed…")
        app.store.move_to_tier(cut, "hazy", text="Ben: Tom moved…")
        assert set(app.store.times_of([kept, cut])) == {kept}
