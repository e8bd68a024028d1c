"""Time words: which other time a memory's words name ("yesterday", "letzte Woche", "上个月"),
read by the local model at consolidation, the date worked out in code (agent/when.py).

A small model asked to count "last Saturday" back from a date copies the words instead
(docs/BENCHMARKS.md), and asked to list the time words of a whole episode it fills the
list with its own examples. So it reads one memory at a time and answers four fields under
a schema: what the time counts in (a day, week, weekend, month, year or a weekday; "none"
first, so a line naming no other time is let go at once), the phrase as written, whether it
lies before or after the memory's day, and how many. The words come before the direction,
which they decide: asked for a signed offset instead, the 1.5B turned "last week" into next
week about a third of the time; asked for the words first, it found words in nearly every
note, a name or a number (scripts/bench/time_words.py, docs/BENCHMARKS.md). The words must
be in the memory's text, or the answer is dropped: that check needs no language's words.
What is kept goes beside the text (storage memory_times), never into it, and shows after
the line in every prompt: '... yesterday. ("yesterday": Sun 7 May 2023)'.

One reading per memory: a memory naming two other times keeps the one the model gives.
Each memory commits with its mark ("times": read), so a stopped run resumes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection
from typing import Any

from agent.lines import written_day
from agent.memory.facts import unread
from agent.memory.report import Progress
from models.generator import ChatMessage, Generator, generate
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
    "Does it speak of a time other than its own day, such as "
    '"yesterday", "last week", "next month", "two years ago" or "last Saturday"? '
    'Reply in JSON: "unit": "none" when it names no other time (a name, a thing, a number '
    "or a feeling is not a time); else what that time counts in: day, week, weekend, month, "
    'year or a weekday; "words": that time phrase exactly as the memory writes it ("" for '
    'none); "direction": "before" when it lies before the memory\'s day (yesterday, last, '
    'ago), "after" when it lies after (tomorrow, next); "count": how many of that unit '
    "(yesterday: 1 day; two years ago: 2 years; last Saturday: 1 saturday)."
)
DIRECTIONS = {"before": -1, "after": 1}


def time_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "unit": {"enum": [NO_TIME, *TIME_UNITS]},
            "words": {"type": "string", "maxLength": WORDS_MAX_CHARS},
            "direction": {"enum": [*DIRECTIONS, NO_TIME]},
            "count": {"enum": list(range(1, MAX_COUNT + 1))},
        },
        "required": ["unit", "words", "direction", "count"],
        "additionalProperties": False,
    }


def read_time(raw: str, text: str) -> TimeWords | None:
    """The model's reply as time words of `text`; None when it names no other time, or its
    words are not in the text (the model wrote the day, or its own example)."""
    try:
        data = json.JSONDecoder(strict=False).decode(raw)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    words, direction = data.get("words"), data.get("direction")
    unit, count = data.get("unit"), data.get("count")
    if direction not in DIRECTIONS or unit not in TIME_UNITS or not isinstance(words, str):
        return None
    if type(count) is not int or not 1 <= count <= MAX_COUNT:
        return None
    words = " ".join(words.split())
    if not words or words.casefold() not in " ".join(text.split()).casefold():
        return None
    return TimeWords(words, unit, DIRECTIONS[direction] * count)


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
        """Ask the model for the memory's time words, store what holds, and mark it read."""
        prompt = self.generator.format_chat(
            [ChatMessage("system", INSTRUCTIONS), ChatMessage("user", self.shown(memory))]
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
        for count, memory in enumerate(memories, start=1):
            if self.read(memory) is not None:
                found.append(memory.id)
            if progress:
                progress(count, len(memories), f"time words: memory {memory.id}")
        return len(memories), found
