"""Grounded answers: prompt fitting, citations, "I don't know", chat memories, interruption.

Logic tests: the scripted generator and the fake embedder over a real SQLite store."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest
from conftest import NOW, memory

from agent.chat import ASK_FOR_WORDS, DONT_KNOW, ChatSession
from agent.citations import (
    asks_judgement,
    asks_when,
    cited_ids,
    given_words,
    has_content,
    has_date,
    holding_question,
    says_dont_know,
    says_in_words,
    supporting,
    when_words,
)
from agent.errors import UserError
from agent.prompt import Turn, fit_prompt, follow_up, memory_line, render_line, written_day
from agent.relative_dates import pinned_dates
from agent.service import Papertape
from models.fake_generator import ScriptedGenerator

FACTS = [
    "My locker code at the gym is 4411.",
    "Bought oat milk and bread at the corner shop.",
    "The plumber Marek comes on Thursday at nine to fix the boiler.",
]


def plant(app: Papertape) -> list[int]:
    ids = []
    for offset, text in enumerate(FACTS):
        result = app.note(text, now=NOW + offset, occurred_at=NOW - 86400 * (offset + 1))
        assert result.memory_id is not None
        ids.append(result.memory_id)
    return ids


def session(app: Papertape, replies: Sequence[str | None] = (), **kw: object) -> ChatSession:
    app._generator = ScriptedGenerator(replies, context_tokens=kw.pop("context", 2048))  # type: ignore[arg-type]
    return app.chat(**kw)  # type: ignore[arg-type]


# -- citations ------------------------------------------------------------------------------


def test_only_ids_that_were_shown_count_as_citations() -> None:
    shown = [memory(4, "a"), memory(9, "b")]
    assert cited_ids("It is 4411 [9], see also [4, 12] and #4.", shown) == [9, 4]
    assert cited_ids("Per memory [77].", shown) == []


def test_uncited_answers_are_attributed_by_their_own_words() -> None:
    shown = [memory(1, "Bought oat milk at the corner shop"), memory(2, "Locker code is 4411")]
    assert supporting("It is 4411.", "What is my locker code?", shown) == [2]
    assert supporting("The corner shop.", "Where did I buy oat milk?", shown) == [1]
    assert supporting("Your locker code.", "What is my locker code?", shown) == []


def test_an_answer_is_held_by_its_words_in_any_form() -> None:
    shown = [
        memory(1, "Tim: Great that you have goals off the court, like building a brand."),
        memory(2, "John: My goal is to improve my shooting percentage."),
    ]
    answer = "Improving his shooting percentage and building his brand."
    # "Improving" is held by "improve": John's line holds three words, Tim's two.
    assert supporting(answer, "What are John's goals?", shown) == [2, 1]
    # Words the question already holds, in another form, are not the answer's own.
    assert not has_content("Yes, she studied.", "Did she study?")
    assert has_content("Yes, she studied law.", "Did she study?")
    # A hedge is phrasing, not a word a memory can hold: "likely" is not "likes".
    flowers = [memory(1, "Maria likes orchids.")]
    assert supporting("Sunflowers, most likely.", "What flowers might Maria want?", flowers) == []


@pytest.mark.parametrize(
    "text", ["I don't know.", "I do not know that", "The memories don't say.", "Not sure."]
)
def test_dont_know_is_recognised(text: str) -> None:
    assert says_dont_know(text)


# -- prompt fitting -------------------------------------------------------------------------


def test_the_prompt_fits_the_context_and_keeps_the_best_memories_first() -> None:
    generator = ScriptedGenerator(context_tokens=200)
    memories = [memory(i, f"fact number {i} " + "word " * (5 if i != 2 else 80)) for i in range(6)]
    fitted = fit_prompt(generator, "which fact?", memories, [], answer_tokens=30)
    assert generator.count_tokens(fitted.prompt) == fitted.tokens <= 200 - 30
    ids = [m.id for m in fitted.memories]
    assert ids[:2] == [0, 1] and 2 not in ids  # the long one is skipped, shorter ones follow
    assert ids == sorted(ids) and len(ids) >= 3
    assert fitted.prompt.index(memory_line(memories[0])) < fitted.prompt.index("[1]")


def test_a_memory_line_writes_the_day_out_and_ends_with_the_id() -> None:
    noon_7_may_2023 = 1_683_460_800.0  # 12:00 UTC: the same day in any time zone within 11 h
    assert render_line(12, noon_7_may_2023, " went to the\n support  group ") == (
        "(7 May 2023) went to the support group [12]"
    )


def test_history_gets_a_bounded_share_newest_first() -> None:
    generator = ScriptedGenerator(context_tokens=400)
    turns = [Turn(f"question {i} " + "x " * 20, f"answer {i}") for i in range(10)]
    fitted = fit_prompt(generator, "now?", [memory(1, "m")], turns, answer_tokens=100)
    kept = [t.question.split()[1] for t in fitted.turns]
    assert kept and kept == [str(i) for i in range(10 - len(kept), 10)]
    assert sum(generator.count_tokens(t.question + t.answer) for t in fitted.turns) <= 300 * 0.25
    assert "question 0" not in fitted.prompt


def test_a_question_too_long_for_the_context_is_refused() -> None:
    with pytest.raises(ValueError, match="take"):
        fit_prompt(ScriptedGenerator(context_tokens=50), "word " * 100, [], [], answer_tokens=10)


# -- a session ------------------------------------------------------------------------------


def test_an_answer_cites_its_memory_and_is_stored_as_chat(app: Papertape) -> None:
    ids = plant(app)
    chat = session(app, [f"Your locker code is 4411 [{ids[0]}]."])
    streamed: list[str] = []
    answer = chat.ask("What is my locker code?", now=NOW + 100, on_token=streamed.append)
    # Streamed as the model said it; answered without restating the question.
    assert answer.model_text == f"Your locker code is 4411 [{ids[0]}]." == "".join(streamed)
    assert answer.text == f"4411 [{ids[0]}]."
    assert answer.citations == (ids[0],) and answer.grounded
    assert answer.memories[0].id == ids[0]
    assert answer.ttft_s is not None and answer.tokens_per_s and answer.tokens_per_s > 0
    stored = app.store.get(answer.memory_id or -1)
    assert stored is not None and stored.kind == "chat" and stored.source == chat.source
    assert "Q: What is my locker code?" in stored.text and "4411" in stored.text
    links = app.store.links_from(stored.id)
    assert [(link.to_id, link.relation) for link in links] == [(ids[0], "derived_from")]


def test_an_answer_that_loops_says_each_thing_once_and_is_stored_so(app: Papertape) -> None:
    ids = plant(app)
    looped = f"Oat milk [{ids[1]}], bread, oat milk, bread, oat mi"
    chat = session(app, [looped])
    answer = chat.ask("What did I buy at the corner shop?", now=NOW + 100)
    assert answer.text == f"Oat milk [{ids[1]}], bread" and answer.model_text == looped
    assert answer.grounded and answer.citations == (ids[1],)
    stored = app.store.get(answer.memory_id or -1)
    assert stored is not None and stored.text.endswith(f"A: Oat milk [{ids[1]}], bread")


def test_an_answer_without_ids_is_cited_by_its_words(app: Papertape) -> None:
    ids = plant(app)
    answer = session(app, ["At the corner shop."]).ask("Where did I buy oat milk?", now=NOW)
    assert answer.citations == (ids[1],) and answer.grounded


def test_nothing_relevant_means_dont_know_without_the_model(app: Papertape) -> None:
    plant(app)
    chat = session(app, ["Your cat is called Felix."])
    answer = chat.ask("Who painted the Sistine ceiling?", now=NOW)
    assert answer.text == DONT_KNOW and not answer.grounded and answer.citations == ()
    assert chat.generator.prompts == []  # type: ignore[attr-defined]


def test_an_invented_answer_is_replaced_by_dont_know(app: Papertape) -> None:
    plant(app)
    answer = session(app, ["A famous violinist from Vienna."]).ask(
        "Who comes to fix the boiler?", now=NOW
    )
    assert answer.text == DONT_KNOW and answer.model_text is not None
    assert "violinist" in answer.model_text and answer.citations == ()
    stored = app.store.get(answer.memory_id or -1)
    assert stored is not None and "violinist" not in stored.text and DONT_KNOW not in stored.text


def test_an_answer_of_bare_ids_is_asked_again_for_words(app: Papertape) -> None:
    ids = plant(app)
    chat = session(app, [f"[{ids[0]}]", "The code is 4411."])
    answer = chat.ask("What is my locker code?", now=NOW)
    first, second = chat.generator.prompts  # type: ignore[attr-defined]
    assert second.startswith(first) and second.rstrip().endswith(f"{ASK_FOR_WORDS}\n<|assistant|>")
    assert f"[{ids[0]}]" in second[len(first) :]  # its own reply, then the request
    assert answer.text == "The code is 4411." and answer.citations == (ids[0],)
    assert answer.model_text == f"[{ids[0]}]\nThe code is 4411." and answer.grounded
    assert answer.prompt == second and answer.prompt_tokens == chat.generator.count_tokens(second)


def test_a_looping_reply_cut_off_inside_an_id_is_asked_again(app: Papertape) -> None:
    ids = plant(app)
    loop = f"Plumber: [{ids[2]}]\n\n" * 3 + "Plumber: [30"
    chat = session(app, [loop, "The boiler."], remember=False)
    answer = chat.ask("What does the plumber fix?", now=NOW)
    # "30" is no word of an answer: the reply only points, so the model is asked again.
    assert len(chat.generator.prompts) == 2  # type: ignore[attr-defined]
    assert answer.text == "The boiler." and answer.citations == (ids[2],)


def test_words_given_when_asked_again_are_judged_like_any_answer(app: Papertape) -> None:
    ids = plant(app)
    answer = session(app, [f"[{ids[0]}]", "The code is 9172."]).ask(
        "What is my locker code?", now=NOW
    )
    assert answer.text == DONT_KNOW and not answer.grounded  # no memory holds 9172
    assert answer.model_text == f"[{ids[0]}]\nThe code is 9172."


def test_bare_ids_twice_become_what_those_memories_say(app: Papertape) -> None:
    ids = plant(app)
    answer = session(app, [f"[{ids[0]}]", f"It is [{ids[0]}]."]).ask(
        "What is my locker code?", now=NOW
    )
    assert answer.model_text == f"[{ids[0]}]" and answer.grounded
    locker = app.store.get(ids[0])
    assert locker is not None and answer.text == memory_line(locker)  # dated, as it was shown
    assert "4411" in answer.text and answer.text.endswith(f"[{ids[0]}]")
    assert answer.citations == (ids[0],)


def test_no_room_to_ask_again_leaves_the_first_reply() -> None:
    generator = ScriptedGenerator(context_tokens=200)
    fitted = fit_prompt(generator, "What is my locker code?", [], [], answer_tokens=60)
    asked = follow_up(generator, fitted, "[3]", ASK_FOR_WORDS, answer_tokens=60)
    assert asked is not None and asked.tokens == generator.count_tokens(asked.prompt)
    assert follow_up(generator, fitted, "[3] " * 80, ASK_FOR_WORDS, answer_tokens=60) is None


def test_a_when_question_answered_by_a_bare_id_gets_that_memorys_day(app: Papertape) -> None:
    ids = plant(app)
    chat = session(app, [f"[{ids[1]}]"])
    when = chat.ask("When did I buy oat milk?", now=NOW)
    assert len(chat.generator.prompts) == 1  # pointing is answer enough: not asked again
    shop = app.store.get(ids[1])
    assert shop is not None and when.text == f"{written_day(shop.occurred_at)} [{ids[1]}]"
    assert when.model_text == f"[{ids[1]}]" and when.citations == (ids[1],)


def test_a_memory_that_says_when_in_its_own_words_answers_with_them_and_their_day(
    app: Papertape,
) -> None:
    ids = plant(app)
    plumber = app.store.get(ids[2])
    assert plumber is not None
    when = session(app, [f"[{ids[2]}]"]).ask("When does the plumber Marek come?", now=NOW)
    # "on Thursday at nine": the day it was said alone would not answer.
    said = written_day(plumber.occurred_at)
    assert when.text == f"on Thursday, said on {said} [{ids[2]}]"
    assert when.citations == (ids[2],)


def test_the_verb_may_does_not_make_a_memory_say_when(app: Papertape) -> None:
    result = app.note("I may visit the lighthouse museum.", now=NOW, occurred_at=NOW - 86400)
    assert result.memory_id is not None
    museum = app.store.get(result.memory_id)
    assert museum is not None
    chat = session(app, [f"[{museum.id}]"], remember=False)
    when = chat.ask("When did I plan the lighthouse museum visit?", now=NOW)
    assert when.text == f"{written_day(museum.occurred_at)} [{museum.id}]"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("I won my fourth video game tournament on Friday!", "on Friday"),
        ("Back in June 2021 we met, and on 10 July we left.", "in June 2021, on 10 July"),
        ("We went last May.", "last May"),
        ("It was a while ago, really.", "a while ago"),
        ("I may go there, this may work.", ""),
        ("Lunch with Sam [12].", ""),
    ],
)
def test_the_words_a_memory_says_when_with(text: str, words: str) -> None:
    assert when_words(text) == words


def test_a_when_answer_gets_the_date_pinned_in_the_memory(app: Papertape) -> None:
    said = say(app, ["Maria: I went to the beach last month with my sister."])
    beach = app.store.get(said["Maria"])
    assert beach is not None and "last month [" in beach.text
    month = pinned_dates(beach.text)[0]
    chat = session(app, [f"[{beach.id}]", f"She went with her sister [{beach.id}]."])
    pointed = chat.ask("When did Maria go to the beach?", now=NOW)
    assert pointed.text == f"{month} [{beach.id}]" and month != written_day(beach.occurred_at)
    undated = chat.ask("When did Maria go to the beach?", now=NOW)
    assert undated.text == f"She went with her sister {month} [{beach.id}]."


def test_an_unanswered_when_question_gets_the_day_of_the_memory_it_asks_about(
    app: Papertape,
) -> None:
    said = say(
        app,
        [
            "Gina: It's Shia Labeouf! Loved him in that film.",
            "Jon: I started volunteering at the shelter downtown.",
        ],
    )
    day = written_day(NOW - 86400)
    echoed = "Gina: When did Gina mention Shia Labeouf?"
    chat = session(app, [echoed, "I don't know.", "I don't know."], remember=False)
    answer = chat.ask("When did Gina mention Shia Labeouf?", now=NOW)
    assert answer.text == f"{day} [{said['Gina']}]" and answer.grounded
    assert answer.citations == (said["Gina"],) and answer.model_text == echoed
    # Held in another form: "volunteering" for "volunteer", even past the model's refusal.
    started = chat.ask("When did Jon start to volunteer at the shelter?", now=NOW)
    assert started.text == f"{day} [{said['Jon']}]" and started.model_text == "I don't know."
    # A memory holding under two thirds of what is asked about answers nothing.
    unknown = chat.ask("When did Jon adopt a shelter dog called Rex?", now=NOW)
    assert unknown.text == DONT_KNOW and not unknown.grounded


@pytest.mark.parametrize(
    ("question", "held"),
    [
        ("When did Gina mention Shia Labeouf?", "Gina: It's Shia Labeouf!"),
        ("Which week did Tim visit the UK?", "Tim: I'm visiting the UK next week."),
        ("When did John start volunteering?", "John: I volunteer now, started in May."),
        ("When did Gina mention Shia Labeouf?", None),
    ],
)
def test_the_memory_holding_a_questions_words(question: str, held: str | None) -> None:
    shown = [
        memory(1, "Gina: I watched a film with my sister."),
        memory(2, held or "Jon: Labeouf was great in it."),
    ]
    found = holding_question(question, shown)
    assert (found.id if found else None) == (2 if held else None)


def test_follow_ups_see_the_conversation_and_the_last_evidence(app: Papertape) -> None:
    ids = plant(app)
    chat = session(app, [f"On Thursday [{ids[2]}].", "At nine."])
    chat.ask("When does the plumber come?", now=NOW)
    second = chat.ask("What time is the plumber coming?", now=NOW + 5)
    prompt = chat.generator.prompts[-1]  # type: ignore[attr-defined]
    assert "When does the plumber come?" in prompt and f"On Thursday [{ids[2]}]." in prompt
    assert ids[2] in [m.id for m in second.memories]
    # This conversation's own stored turns are history, not evidence.
    assert all(m.source != chat.source for m in second.memories)


def test_peek_stores_nothing_and_strengthens_nothing(app: Papertape) -> None:
    ids = plant(app)
    before = app.store.get(ids[0])
    answer = session(app, [f"4411 [{ids[0]}]"], remember=False).ask(
        "What is my locker code?", now=NOW + 50
    )
    assert answer.memory_id is None and app.stats().memories == len(FACTS)
    assert app.store.get(ids[0]) == before


def test_an_empty_question_is_refused(app: Papertape) -> None:
    with pytest.raises(UserError, match="empty"):
        session(app).ask("   ", now=NOW)


class Interrupting(ScriptedGenerator):
    def stream(self, prompt: str, *, max_tokens: int, stop: Sequence[str] = ()) -> Iterator[str]:
        yield "Your locker"
        raise KeyboardInterrupt


def test_ctrl_c_during_generation_leaves_the_store_consistent(app: Papertape) -> None:
    plant(app)
    app._generator = Interrupting()
    chat = app.chat()
    with pytest.raises(KeyboardInterrupt):
        chat.ask("What is my locker code?", now=NOW)
    assert app.stats().memories == len(FACTS)  # no half-stored chat turn
    assert app.store.integrity_check() == "ok"
    assert chat.history == []


def say(app: Papertape, lines: Sequence[str]) -> dict[str, int]:
    """Store transcript lines ("Name: text") said yesterday; each speaker's memory id."""
    said = {}
    for text in lines:
        result = app.note(text, now=NOW, occurred_at=NOW - 86400)
        assert result.memory_id is not None
        said[text.split(":")[0]] = result.memory_id
    return said


def test_an_answer_from_another_speakers_line_is_refused(app: Papertape) -> None:
    said = say(
        app,
        [
            "Melanie: I ran a charity race for mental health last Saturday.",
            "Caroline: I went to a poetry reading on mental health for charity last night.",
        ],
    )
    race = f"A race for mental health [{said['Melanie']}]."
    chat = session(app, [race, race, "A race for mental health."], remember=False)
    question = "What did {} do for charity?"
    wrong = chat.ask(question.format("Caroline"), now=NOW)
    assert wrong.text == DONT_KNOW and not wrong.grounded and wrong.citations == ()
    assert wrong.model_text == race
    right = chat.ask(question.format("Melanie"), now=NOW)
    assert right.grounded and right.text == race and right.citations == (said["Melanie"],)
    # Without ids, the answer rests on the line holding most of its words: Melanie's, though
    # Caroline's holds two of them.
    uncited = chat.ask(question.format("Caroline"), now=NOW)
    assert uncited.text == DONT_KNOW and uncited.model_text == "A race for mental health."


def test_an_id_whose_line_holds_none_of_the_answer_gives_way_to_the_line_that_does(
    app: Papertape,
) -> None:
    said = say(
        app,
        [
            "John: I've done weight training so far too. It was challenging.",
            "Maria: Wow, John! Have you done events for any other causes?",
        ],
    )
    # The model's words are John's; its id is Maria's line, which says none of them.
    chat = session(app, [f"Weight training [{said['Maria']}]", "A charity gala."], remember=False)
    answer = chat.ask("What exercises has John done?", now=NOW)
    assert answer.grounded and answer.citations == (said["John"],)
    assert answer.text.startswith("Weight training")
    # Words no line holds are still refused.
    assert chat.ask("What exercises has John done?", now=NOW).text == DONT_KNOW


@pytest.mark.parametrize(
    ("question", "when"),
    [
        ("When did John get his degree?", True),
        ("Which week did Tim visit the UK?", True),
        ("In which month's game did John score most?", True),
        ("What year did John start surfing?", True),
        ("What day is it?", True),
        ("What did John do on his day off?", False),
        ("Which weekday cafe does John like?", False),
        ("Whenever John runs, what does he drink?", False),
    ],
)
def test_a_question_for_a_unit_of_time_asks_when(question: str, when: bool) -> None:
    assert asks_when(question) is when


def test_a_when_question_may_be_dated_by_the_other_speakers_reply(app: Papertape) -> None:
    said = say(
        app,
        [
            "John: I finally finished my degree last week.",
            "Maria: Congrats on the degree, John! So proud of you.",
        ],
    )
    dated = f"{written_day(NOW - 86400)} [{said['Maria']}]"
    chat = session(app, [dated, f"A degree [{said['Maria']}]."], remember=False)
    when = chat.ask("When did John get his degree?", now=NOW)
    assert when.grounded and when.text == dated and when.citations == (said["Maria"],)
    # Any other question about John still may not rest on Maria's line.
    what = chat.ask("What did John finish?", now=NOW)
    assert what.text == DONT_KNOW and not what.grounded


def test_a_when_answer_that_points_at_a_memory_gets_its_date(app: Papertape) -> None:
    ids = plant(app)
    plumber = app.store.get(ids[2])
    assert plumber is not None
    day = written_day(plumber.occurred_at)
    replies = [f"Marek fixed the boiler on [{ids[2]}].", f"Marek fixed the boiler in {day}."]
    chat = session(app, replies, remember=False)
    pointed = chat.ask("When was the plumber Marek booked?", now=NOW)
    assert pointed.text == f"Marek fixed the boiler on {day} [{ids[2]}]."
    assert pointed.model_text == replies[0] and pointed.citations == (ids[2],)
    # An answer that already says when is left as it is.
    said = chat.ask("When was the plumber Marek booked?", now=NOW)
    assert said.text == replies[1] and said.model_text is None


def test_a_year_the_question_holds_does_not_stop_the_answer_being_dated(app: Papertape) -> None:
    ids = plant(app)
    plumber = app.store.get(ids[2])
    assert plumber is not None
    reply = f"Marek fixed the boiler in 2023 on [{ids[2]}]."
    chat = session(app, [reply], remember=False)
    answer = chat.ask("When was the plumber Marek booked in 2023?", now=NOW)
    day = written_day(plumber.occurred_at)
    assert answer.text == f"Marek fixed the boiler in 2023 on {day} [{ids[2]}]."


@pytest.mark.parametrize(
    ("answer", "dated"),
    [
        ("On 3 May [12].", True),
        ("In 2023", True),
        ("On Thursday [3].", True),
        ("Two weeks ago", True),
        ("On [2023].", False),
        ("At the gym [4]", False),
    ],
)
def test_an_answer_says_when_with_a_month_year_weekday_or_relative_day(
    answer: str, dated: bool
) -> None:
    assert has_date(answer) is dated


def test_a_date_the_question_already_holds_does_not_say_when() -> None:
    question = "When did John hurt his ankle in 2023?"
    assert not has_date("John hurt his ankle in 2023 on [398]", question)
    assert has_date("In May 2023 [398]", question)


def test_a_yes_no_question_said_back_is_answered_not_refused(app: Papertape) -> None:
    plant(app)
    restated = "The plumber Marek does not come on Thursday."
    chat = session(app, [restated], remember=False)
    answer = chat.ask("Does the plumber Marek come on Thursday?", now=NOW)
    # Without the yes/no rule this has no words of its own and is refused as an echo.
    assert answer.grounded and answer.text == "No." and answer.model_text == restated


def test_an_either_or_question_answered_by_one_option_is_an_answer(app: Papertape) -> None:
    ids = plant(app)
    chat = session(app, ["Thursday."], remember=False)
    answer = chat.ask("Does the plumber come on Wednesday or Thursday?", now=NOW)
    # "Thursday" is a word of the question, but choosing it is the answer, not an echo.
    assert answer.grounded and answer.text == "Thursday." and answer.citations == (ids[2],)


@pytest.mark.parametrize(
    ("question", "given"),
    [
        ("Is the dentist on Monday or Tuesday?", {"dentist"}),
        ("Would Tim enjoy books by C. S. Lewis or John Greene?", {"tim", "enjoy"}),
        ("Was the trip good? Answer yes or no.", {"trip", "good", "answer"}),
        ("What has Audrey bought or made for her dogs?", {"audrey", "bought", "made", "dogs"}),
    ],
)
def test_only_an_either_or_questions_options_are_not_given(question: str, given: set[str]) -> None:
    assert given_words(question) == given


@pytest.mark.parametrize(
    ("question", "judgement"),
    [
        ("Would John be considered a patriotic person?", True),
        ("What might John's degree be in?", True),
        ("Is it likely that Nate has friends besides Joanna?", True),
        ("Which outdoor gear company probably signed John?", True),
        ("Could you tell me where my passport is?", False),
        ("Where would I have put my keys?", False),
        ("What did John buy at the market?", False),
        ("When might Sam visit?", False),  # a date, which the "when" rules answer
        ("Which popular time management technique does Tim use?", True),
        ("What is a prominent charity John works with?", True),
        ("What advice did James get from the famous players he met?", False),
        ("When did Tim visit the famous castle?", False),
    ],
)
def test_a_question_asking_for_a_judgement(question: str, judgement: bool) -> None:
    assert asks_judgement(question) is judgement


def test_a_judgement_no_memory_states_is_a_guess_marked_and_not_stored(app: Papertape) -> None:
    say(
        app,
        [
            "Caroline: I went to a poetry reading on mental health last night.",
            "Melanie: I ran a charity race last Saturday.",
        ],
    )
    reply = "Caroline would probably enjoy jazz concerts."
    chat = session(app, [reply, reply])
    guessed = chat.ask("What music might Caroline enjoy at a poetry reading?", now=NOW)
    assert guessed.guess and not guessed.grounded and "jazz" in guessed.text
    stored = app.store.get(guessed.memory_id or -1)
    assert stored is not None and "jazz" not in stored.text  # the question only
    # The same words asked for a fact rest on no memory: refused.
    refused = chat.ask("What music did Caroline hear at the poetry reading?", now=NOW)
    assert refused.text == DONT_KNOW and not refused.guess and refused.model_text == reply


def test_the_public_name_of_what_memories_describe_is_a_guess(app: Papertape) -> None:
    say(app, ["Tim: My study technique: 25-minute blocks, then a 5-minute break."])
    reply = "Tim uses the Pomodoro Technique."
    chat = session(app, [reply, reply], remember=False)
    named = chat.ask("Which popular study technique does Tim use?", now=NOW)
    assert named.guess and "Pomodoro" in named.text
    # Asked what he does, the name no memory holds is refused.
    refused = chat.ask("Which study technique does Tim use?", now=NOW)
    assert refused.text == DONT_KNOW and not refused.guess


def test_a_yes_no_judgement_about_a_speaker_is_a_guess_not_a_refusal(app: Papertape) -> None:
    say(
        app,
        [
            "Caroline: My friends have always considered me a proud person.",
            "Melanie: Every person I know is considered kind.",
        ],
    )
    reply = "Caroline is not considered a patriotic person."
    chat = session(app, [reply, reply], remember=False)
    # No line backs a bare "No.", so none of Caroline's is cited: asked for a fact, refused.
    fact = chat.ask("Is Caroline considered a patriotic person?", now=NOW)
    assert fact.text == DONT_KNOW and not fact.guess and fact.model_text == reply
    guessed = chat.ask("Would Caroline be considered a patriotic person?", now=NOW)
    assert guessed.guess and guessed.text == "No." and guessed.citations == ()


def test_a_judgement_the_model_declines_stays_unknown(app: Papertape) -> None:
    say(app, ["Caroline: I went to a poetry reading on mental health last night."])
    chat = session(app, ["I don't know."], remember=False)
    answer = chat.ask("Would Caroline enjoy a poetry slam?", now=NOW)
    assert not answer.guess and not answer.grounded


@pytest.mark.parametrize(
    ("reply", "in_words"),
    [
        ("Such as computer science and business.", True),
        ("No.", True),
        ("Caroline:\n(20 July 2023)\nEducation:", False),
        ("Melanie:\n(192)\n(20 October 2023)\n(394)", False),
        ("(191)", False),
        ("Caroline would enjoy the poetry slam.", False),  # the question said back
        ("Hiking (with her kids).", True),
    ],
)
def test_labels_and_bracketed_asides_do_not_say_anything(reply: str, in_words: bool) -> None:
    assert says_in_words(reply, "Would Caroline enjoy the poetry slam?") is in_words


def test_a_guess_that_is_only_labels_and_dates_stays_unknown(app: Papertape) -> None:
    say(app, ["Caroline: I went to a poetry reading on mental health last night."])
    chat = session(app, ["Caroline:\n(20 July 2023)\nEducation:"], remember=False)
    answer = chat.ask("What might Caroline study at the poetry reading?", now=NOW)
    assert answer.text == DONT_KNOW and not answer.guess
