"""Time words: which other time a memory's words name ("yesterday", "letzte Woche", "上个月"),
read by the local model at consolidation, the date worked out in code (agent/when.py).

A small model asked to count "last Saturday" back from a date copies the words instead
(docs/BENCHMARKS.md), and asked to list the time words of a whole episode it fills the
list with its own examples. So it reads one memory at a time, after a few worked examples,
and answers four fields under a schema: the phrase that comes closest to saying when, as
written, what it counts in (a day, week, weekend, month, year or a weekday; "none" when the
phrase names no other time), whether it lies in the memory's past or future, and how many.
The phrase comes first, so the unit and the direction are read off words the model has just
written; without the examples, asked for the words first it found words in nearly every
note, and asked for the unit first it read "last Saturday" as a week; named "before" and
"after", the direction was wrong for about one kept phrase in six. The phrase may not be
empty: allowed "" for none, the model chose it for a "yesterday" or "tomorrow" in the middle
of a long chat line, where its most likely first token was the closing quote; made to copy
a phrase, it names one and says with the unit whether that phrase is a time
(scripts/bench/time_words.py, docs/BENCHMARKS.md). The words must be in the memory's text,
and not beside a number they do not count ("Tuesday 14 October" is that day, not the next
Tuesday), or the answer is dropped: those checks need no language's words.
What is kept goes beside the text (storage memory_times), never into it, and shows after
the line in every prompt: '... yesterday. ("yesterday": Sun 7 May 2023)'.

One reading per memory: a memory naming two other times keeps the one the model gives.
Each memory commits with its mark ("times": read), so a stopped run resumes.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Collection, Sequence
from typing import Any

from agent.lines import written_day
from agent.memory.facts import unread, wordless_screen
from agent.memory.report import Progress
from agent.words import numbers
from models.generator import ChatMessage, Generator, generate, json_reply, keep_shared_beginning
from storage import TIME_UNITS, Memory, MemoryStore, TimeWords

log = logging.getLogger(__name__)

TIME_MARK = "times"  # the memory mark of "read for time words"
NO_TIME = "none"
MAX_COUNT = 9  # "nine years ago"; further back, a text gives the year itself
WORDS_MAX_CHARS = 30
# Room for the whole reply even at a token a byte of the words (4 a character in UTF-8);
# the schema ends a real model's reply long before.
TIME_TOKENS = 4 * WORDS_MAX_CHARS + 40
TEXT_MAX_TOKENS = 384  # of a long memory, the start is read: where a note says when

INSTRUCTIONS = (
    "The user gives one memory: the day it was written or said, then what was said. "
    "Find the phrase in it that says when what it tells happened, such as "
    '"yesterday", "last week", "next month", "two years ago" or "last Saturday". '
    'Reply in JSON: "words": that phrase exactly as the memory writes it (when it names no '
    "time other than its own day, the phrase that comes closest, such as a length of time); "
    '"unit": "none" when those words name no other time (a name, a thing, a number, a length '
    "of time or a feeling is not a time), else what that time counts in: day, week, weekend, "
    'month, year or a weekday; "when": "past" when it lies before the memory\'s day '
    '(yesterday, last, ago), "future" when it lies after (tomorrow, next); "count": how many '
    "of that unit (yesterday: 1 day; two years ago: 2 years; last Saturday: 1 saturday)."
)
WHEN = {"past": -1, "future": 1}

# Worked examples, shown as earlier turns before each memory: the time phrase among other
# words or ending a short line, both directions, a weekday, other languages, a line naming
# no other time (its closest phrase, a length of time, with the unit "none"). They are the
# same for every memory, so the runtime's prompt cache reads them once. Their words are the
# model's to learn from, not a list the code matches: the reply's words must still be in
# the memory read.
EXAMPLES: tuple[tuple[str, dict[str, Any]], ...] = (
    (
        "(Tue 11 June 2024) Dana: It was such a good trip! We got back from the mountains "
        "last week and I'm still sore from all the climbing.",
        {"words": "last week", "unit": "week", "when": "past", "count": 1},
    ),
    (
        "(Thu 3 October 2024) Paul: See you then! The lasagne recipe is my grandmother's, it "
        "has four kinds of cheese and takes two hours.",
        {"words": "takes two hours", "unit": NO_TIME, "when": NO_TIME, "count": 1},
    ),
    (
        "(Mon 2 December 2024) Jana: Wir ziehen nächsten Freitag um, die Kisten stehen schon "
        "im Flur.",
        {"words": "nächsten Freitag", "unit": "friday", "when": "future", "count": 1},
    ),
    (
        "(Sat 20 April 2024) 小周：我两个月前开始学游泳，现在能游五百米了。",
        {"words": "两个月前", "unit": "month", "when": "past", "count": 2},
    ),
    (
        "(Fri 1 March 2024) Tom: I finished the big puzzle yesterday.",
        {"words": "yesterday", "unit": "day", "when": "past", "count": 1},
    ),
)


def time_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "words": {"type": "string", "minLength": 1, "maxLength": WORDS_MAX_CHARS},
            "unit": {"enum": [NO_TIME, *TIME_UNITS]},
            "when": {"enum": [*WHEN, NO_TIME]},
            "count": {"enum": list(range(1, MAX_COUNT + 1))},
        },
        "required": ["words", "unit", "when", "count"],
        "additionalProperties": False,
    }


def reading_messages(
    shown: str,
    instructions: str = INSTRUCTIONS,
    examples: Sequence[tuple[str, dict[str, Any]]] = EXAMPLES,
) -> list[ChatMessage]:
    """The instructions, the worked examples as earlier turns, then the memory to read (other
    instructions and examples: the bench's baseline reading)."""
    messages = [ChatMessage("system", instructions)]
    for line, reply in examples:
        messages += [
            ChatMessage("user", line),
            ChatMessage("assistant", json.dumps(reply, ensure_ascii=False)),
        ]
    return [*messages, ChatMessage("user", shown)]


def read_time(raw: str, text: str) -> TimeWords | None:
    """The model's reply as time words of `text`; None when it names no other time, its
    words are not in the text (the model wrote the day, or its own example), or they write a
    number in digits that is not the count ("2031" read as next year; "5 years" as one)."""
    data = json_reply(raw)
    words, when = data.get("words"), data.get("when")
    unit, count = data.get("unit"), data.get("count")
    if when not in WHEN or unit not in TIME_UNITS or not isinstance(words, str):
        return None
    if type(count) is not int or not 1 <= count <= MAX_COUNT:
        return None
    words = " ".join(words.split())
    if not words or words.casefold() not in " ".join(text.split()).casefold():
        return None
    written = numbers(words)
    if written and count not in written:
        return None
    if in_a_written_date(words, " ".join(text.split()), count):
        return None
    return TimeWords(words, unit, WHEN[when] * count)


# Between a weekday and its date: "Tuesday 14 October", "周二（10月14日）". Not a comma: after
# "last week, 2 hours" the number is another clause's.
_JOINERS = " (（)）"
_LAST_NUMBER = re.compile(r"\d+$")  # decimal digits of any script
_CLOCK = re.compile(r"\d+:\d")  # "Friday 19:30": a time of that day, not a date


def in_a_written_date(phrase: str, text: str, count: int) -> bool:
    """Whether `phrase` stands in `text` beside a number it does not count: a weekday written
    with its date ("on Tuesday 14 October") names that day, not the next Tuesday. A number
    before it may be its count ("2 days ago" read as "days ago"), and one after it a clock
    time ("Friday 19:30"). Only digits of any script with a space or bracket between are
    looked for: "Tuesday, 14 October" and "14 October, Tuesday" are not seen, and an hour
    written without a colon ("Friday 7pm") is taken for a date: the line then shows no
    period, which misleads less than a wrong one."""
    folded, sought, at = text.casefold(), phrase.casefold(), 0  # "ß" folds to two letters
    while (at := folded.find(sought, at)) >= 0:
        after = folded[at + len(sought) :].lstrip(_JOINERS)
        before = folded[:at].rstrip(_JOINERS)
        if after[:1].isdigit() and not _CLOCK.match(after):
            return True
        number = _LAST_NUMBER.search(before)
        if number is not None and int(number.group()) != count:
            return True
        at += 1
    return False


class TimeReader:
    def __init__(self, store: MemoryStore, generator: Generator) -> None:
        self.store = store
        self.generator = generator

    def shown(self, memory: Memory) -> str:
        """The memory as the model reads it: its day, then its text, a long one cut."""
        text = " ".join(memory.text.split())
        while self.generator.count_tokens(text) > TEXT_MAX_TOKENS and len(text) > 80:
            text = text[: len(text) * 3 // 4]
        return f"({written_day(memory.occurred_at)}) {text}"

    def read(self, memory: Memory) -> TimeWords | None:
        """Ask the model for the memory's time words, store what holds, and mark it read.
        A screenshot without words is marked read unasked: it names no time."""
        if wordless_screen(self.store, memory):
            with self.store.transaction():
                self.store.mark([memory.id], TIME_MARK)
            return None
        prompt = self.generator.format_chat(reading_messages(self.shown(memory)))
        # The examples are the same for every memory: kept read while other prompts (an
        # answer in the daemon, a fact draft) come between.
        keep_shared_beginning(
            self.generator, prompt, self.generator.format_chat(reading_messages(""))
        )
        room = self.generator.context_tokens - self.generator.count_tokens(prompt)
        time = None
        if room >= TIME_TOKENS:
            raw = generate(self.generator, prompt, max_tokens=TIME_TOKENS, schema=time_schema())
            time = read_time(raw, memory.text)
        else:
            log.warning("memory %s: the model's context leaves no room to read its time", memory.id)
        with self.store.transaction():
            if time is not None:
                self.store.set_time(memory.id, time)
            self.store.mark([memory.id], TIME_MARK)
        return time

    def read_new(
        self, progress: Progress | None = None, among: Collection[int] | None = None
    ) -> tuple[int, list[int]]:
        """Read every sharp memory of the person's own kinds not read before (of `among`, when
        given), each committed with its mark, so a stopped run resumes. Returns how many were
        read and the ids of those whose time words were kept."""
        memories = unread(self.store, TIME_MARK)
        if among is not None:
            memories = [m for m in memories if m.id in among]
        found = []
        if progress and memories:  # up before the first call, which may load the model
            progress(0, len(memories), f"time words: {len(memories)} memories to read")
        for count, memory in enumerate(memories, start=1):
            if self.read(memory) is not None:
                found.append(memory.id)
            if progress:
                progress(count, len(memories), f"time words: memory {memory.id}")
        return len(memories), found
