"""Time words: which other time a memory's words name ("yesterday", "letzte Woche", "上个月"),
read by the local model at consolidation, the date worked out in code (agent/when.py).

A small model asked to count "last Saturday" back from a date copies the words instead
(docs/BENCHMARKS.md), and asked to list the time words of a whole episode it fills the
list with its own examples. So it reads one memory at a time and answers three fields
under a schema: what the words count in (a day, week, weekend, month, year or a weekday),
how many of them before or after the memory's day, and the words as written. The words
must be in the memory's text, or the answer is dropped: that check needs no language's
words. What is kept goes beside the text (storage memory_times), never into it, and shows
after the line in every prompt: '... yesterday. ("yesterday": Sun 7 May 2023)'.

One reading per memory: a memory naming two other times keeps the one the model gives.
Each memory commits with its mark ("times": read), so a stopped run resumes.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from agent.lines import written_day
from agent.memory.facts import SOURCE_KINDS
from agent.memory.report import Progress
from models.generator import ChatMessage, Generator, generate
from storage import TIME_UNITS, Memory, MemoryStore, TimeWords

log = logging.getLogger(__name__)

TIME_MARK = "times"  # the memory mark of "read for time words"
NO_TIME = "none"
MAX_OFFSET = 9  # "nine years ago"; further back, a text gives the year itself
WORDS_MAX_CHARS = 30
# Room for the whole reply even at a token a byte of the words (4 a character in UTF-8);
# the schema ends a real model's reply long before.
TIME_TOKENS = 4 * WORDS_MAX_CHARS + 40
TEXT_MAX_TOKENS = 384  # of a long memory, the start is read: where a note says when

INSTRUCTIONS = (
    "The user gives one memory: the day it was written or said, then what was said. "
    "Does it speak of a time other than its own day, such as "
    '"yesterday", "last week", "next month", "two years ago" or "last Saturday"? '
    'Reply in JSON: "unit": none when it does not; else day, week, weekend, month, year, '
    'or a weekday; "offset": how many of that unit before (negative) or after (positive) '
    "the memory's day: yesterday is day -1, tomorrow day 1, last week week -1, next month "
    "month 1, two years ago year -2, last Saturday saturday -1, this weekend weekend 0; "
    '"words": the time phrase exactly as the memory writes it ("" for none).'
)


def time_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "unit": {"enum": [NO_TIME, *TIME_UNITS]},
            "offset": {"enum": list(range(-MAX_OFFSET, MAX_OFFSET + 1))},
            "words": {"type": "string", "maxLength": WORDS_MAX_CHARS},
        },
        "required": ["unit", "offset", "words"],
        "additionalProperties": False,
    }


def read_time(raw: str, text: str) -> TimeWords | None:
    """The model's reply as time words of `text`; None when it names no other time, or its
    words are not in the text (the model wrote the day, or its own example), or it counts
    nothing ("day 0" is the memory's own day)."""
    try:
        data = json.JSONDecoder(strict=False).decode(raw)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    unit, offset, words = data.get("unit"), data.get("offset"), data.get("words")
    if unit not in TIME_UNITS or type(offset) is not int or not isinstance(words, str):
        return None
    words = " ".join(words.split()).strip()
    if not words or words.casefold() not in " ".join(text.split()).casefold():
        return None
    if offset == 0 and unit in ("day", "week", "month", "year"):
        return None
    if abs(offset) > MAX_OFFSET:
        return None
    return TimeWords(words, unit, offset)


class TimeReader:
    def __init__(self, store: MemoryStore, generator: Generator) -> None:
        self.store = store
        self.generator = generator

    def _shown(self, memory: Memory) -> str:
        """The memory as the model reads it: its day, then its text, a long one cut."""
        text = " ".join(memory.text.split())
        while self.generator.count_tokens(text) > TEXT_MAX_TOKENS and len(text) > 80:
            text = text[: len(text) * 3 // 4]
        return f"({written_day(memory.occurred_at)}) {text}"

    def read(self, memory: Memory) -> TimeWords | None:
        """Ask the model for the memory's time words, store what holds, and mark it read."""
        prompt = self.generator.format_chat(
            [ChatMessage("system", INSTRUCTIONS), ChatMessage("user", self._shown(memory))]
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

    def read_new(self, progress: Progress | None = None) -> tuple[int, list[int]]:
        """Read every sharp memory of the person's own kinds not read before, each committed
        with its mark, so a stopped run resumes. Returns how many were read and the ids of
        those whose time words were kept."""
        done = self.store.marked(TIME_MARK)
        unread = [
            m
            for m in self.store.iter_memories("sharp")
            if m.kind in SOURCE_KINDS and m.id not in done
        ]
        found = []
        for count, memory in enumerate(unread, start=1):
            if self.read(memory) is not None:
                found.append(memory.id)
            if progress:
                progress(count, len(unread), f"time words: memory {memory.id}")
        return len(unread), found
