"""A fact as the model drafts it: the schema it writes under, reading its reply back, and
the checks that its sources hold what it says, in any language."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from agent.words import numbers, words
from models.generator import ids_array

FACTS_MAX = 12  # per model call; more is a model repeating itself
FACT_CHARS = 200
CITED_MAX = 2  # more, and a small model cites whole stretches and mixes up who said what
# Stricter than an answer's 0.5 (agent/answer/check.py): an answer is only marked, a fact is
# kept and shown to the model before the memories themselves.
FACT_WORD_SHARE = 0.6
DATE_PATTERN = "^([0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?)?$"
_WORD = re.compile(r"\w+", re.UNICODE)

INSTRUCTIONS = (
    "You keep a person's memory. Each line below is one memory: its id in square brackets, "
    "the day it was written or said, then who said it (a line without a speaker is the "
    "person's own note). Write down the facts in these lines. A fact is one short sentence "
    "about one thing one person did, said, planned, felt, likes, owns or is, with the names, "
    "places, numbers and titles the line gives; it names that person (never he, she, I or "
    "you). Write a fact for each line that tells something new about someone; leave out "
    'greetings, thanks, praise and small talk. Reply in JSON: "facts", a list. For each '
    'fact: "memory_ids": the line(s) it comes from; "text": the sentence; "date": the day it '
    "happened as YYYY-MM-DD (or YYYY-MM, or YYYY) when the line states or implies one, "
    'worked out from the line\'s day ("last Saturday" said on Mon 8 May 2023 is 2023-05-06), '
    'else ""; "importance": 1 small talk, 3 a useful detail, 5 a key fact, plan, date or '
    "life event."
)


def facts_schema(
    shown_ids: Sequence[int], *, max_facts: int = FACTS_MAX, max_chars: int = FACT_CHARS
) -> dict[str, Any]:
    """The JSON schema of a reply whose facts may cite only `shown_ids`."""
    return {
        "type": "object",
        "properties": {
            "facts": {
                "type": "array",
                "maxItems": max_facts,
                "items": {
                    "type": "object",
                    "properties": {
                        "memory_ids": ids_array(shown_ids, max_items=CITED_MAX, min_items=1),
                        "text": {"type": "string", "minLength": 1, "maxLength": max_chars},
                        "date": {"type": "string", "pattern": DATE_PATTERN},
                        "importance": {"enum": [1, 2, 3, 4, 5]},
                    },
                    "required": ["memory_ids", "text", "date", "importance"],
                    "additionalProperties": False,
                },
            }
        },
        "required": ["facts"],
        "additionalProperties": False,
    }


@dataclass(frozen=True)
class Draft:
    """One fact as the model wrote it (ids already limited to those shown)."""

    text: str
    date: str
    memory_ids: tuple[int, ...]
    importance: int
    cut: bool = False  # its text ran to the schema's length bound, which ended it


_DECODER = json.JSONDecoder(strict=False)  # llama.cpp's grammar lets control characters in


def _items(raw: str) -> list[Any]:
    """The reply's facts; of a reply cut off at the token bound, the whole ones before the cut."""
    try:
        data = _DECODER.decode(raw)
    except ValueError:
        start = raw.find("[")
        found: list[Any] = []
        at = start + 1
        while start >= 0:
            while at < len(raw) and raw[at] in " \t\r\n,":
                at += 1
            try:
                item, at = _DECODER.raw_decode(raw, at)
            except ValueError:
                break
            found.append(item)
        return found
    facts = data.get("facts") if isinstance(data, dict) else None
    return facts if isinstance(facts, list) else []


def read_facts(raw: str, shown_ids: Iterable[int], *, max_chars: int | None = None) -> list[Draft]:
    """The reply's facts as data; a fact citing no shown id, or with no text, is left out.
    A fact whose text reached `max_chars` is marked `cut`: the schema's bound ended it, most
    often mid-clause ("... Caroline is"), so it says less than the model meant."""
    shown = set(shown_ids)
    drafts = []
    for item in _items(raw):
        if not isinstance(item, dict):
            continue
        written = str(item.get("text", ""))
        text = " ".join(written.split())
        ids = item.get("memory_ids")
        cited = tuple(
            dict.fromkeys(
                i for i in (ids if isinstance(ids, list) else []) if type(i) is int and i in shown
            )
        )
        if not text or not cited:
            continue
        rating = item.get("importance")
        importance = rating if type(rating) is int and 1 <= rating <= 5 else 3
        when = item.get("date")
        cut = max_chars is not None and len(written) >= max_chars
        date_text = when.strip() if isinstance(when, str) else ""
        drafts.append(Draft(text, date_text, cited, importance, cut))
    return drafts


def parse_date(text: str) -> date | None:
    """The whole day an ISO date names (YYYY-MM-DD); None for a partial or invalid one."""
    try:
        return date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


def date_words(text: str) -> set[str]:
    """The words a date is written with, ISO and as the prompt writes days ("Sat 6 May
    2023"), so a fact may say the day either way."""
    found = words(text)
    parts = text.split("-")
    try:
        if len(parts) == 3:
            day = date.fromisoformat(text)
            found |= words(f"{day:%a} {day.day} {day:%B %Y}")
        elif len(parts) == 2:
            found |= words(f"{date(int(parts[0]), int(parts[1]), 1):%B %Y}")
    except ValueError:
        pass
    return found


def is_supported(
    text: str, fact_date: str, cited_texts: Sequence[str], cited_days: Sequence[str]
) -> bool:
    """Whether the cited memories, as the model saw them (their text and day), and the
    fact's date hold its words and its numbers.

    The words of the days and the date may be said but do not count as content, so a
    "fact" that only copies a line's day ("Tue 14 November 2023") holds nothing."""
    if not cited_texts:
        return False
    dated = set().union(*(words(day) for day in cited_days)) | date_words(fact_date)
    content = words(text) - dated
    if not content:
        return False
    held = set().union(*(words(cited) for cited in cited_texts))
    if len(content & held) / len(content) < FACT_WORD_SHARE:
        return False
    return numbers(text) <= numbers(" ".join([*cited_texts, *cited_days, fact_date]))


def needed_sources(
    text: str, fact_date: str, cited: Sequence[tuple[int, str, str]]
) -> tuple[int, ...]:
    """Of the cited memories, (id, text, day) each, those the fact rests on, in the order
    cited: each that supports it alone (`is_supported`), or when none does, the fewest that
    do together, taken in the order of how many of its words each holds. A small model often
    cites a line beside the one it read, the next note or the reply to it; such a line would
    tie the fact to a memory it does not rest on, so that forgetting it took the fact."""

    def supports(group: Sequence[tuple[int, str, str]]) -> bool:
        return is_supported(text, fact_date, [c[1] for c in group], [c[2] for c in group])

    alone = [c for c in cited if supports([c])]
    if alone:
        return tuple(c[0] for c in alone)
    content = words(text)
    order = sorted(cited, key=lambda c: -len(words(c[1]) & content))  # stable: model's order
    size = next((n for n in range(2, len(order)) if supports(order[:n])), len(order))
    return tuple(c[0] for c in cited if c in order[:size])


def normalised(text: str) -> str:
    """The fact's words, case-folded, in order: two facts that say the same are one."""
    return " ".join(_WORD.findall(unicodedata.normalize("NFKC", text).casefold()))


def fact_hash(text: str) -> str:
    # Prefixed, so a fact worded exactly as a note is not taken for that note.
    return hashlib.sha256(f"fact\n{normalised(text)}".encode()).hexdigest()
