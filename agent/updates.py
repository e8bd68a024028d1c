"""Does a newer memory update a fact an older one stated (a moved appointment, a new address)?

Asked only of pairs that are already close in meaning (agent/lifecycle.py checks cosine
first). The test is lexical and deliberately cautious:
- both state values (numbers, times, dates, names) and the newer one states at least one
  value the older does not, while dropping at least one the older had;
- the newer one says it is an update ("moved", "new", "changed", "now", "instead"...): without
  that word, a weekly meeting on a new date would read as the old meeting moved;
- they talk about the same thing: their other content words overlap by at least a third.

Near duplicates are the opposite case: close in meaning and stating the same values
(`same_values`), so a standup on Monday and one on Tuesday are never merged.
"""

from __future__ import annotations

import re

from agent.recall import STOPWORDS

MONTHS = frozenset(
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
WEEKDAYS = frozenset("monday tuesday wednesday thursday friday saturday sunday".split())
UPDATE_CUES = frozenset(
    "moved move rescheduled changed change new now instead updated update switched "
    "postponed cancelled canceled no longer".split()
)
_TOKEN = re.compile(r"[\w'-]+")


def _split(text: str) -> tuple[set[str], set[str]]:
    """(values, content words) of a text."""
    values: set[str] = set()
    words: set[str] = set()
    starts_sentence = True
    for raw in text.split():
        for token in _TOKEN.findall(raw):
            lower = token.lower()
            if any(c.isdigit() for c in token) or lower in MONTHS or lower in WEEKDAYS:
                values.add(lower)
            elif token[:1].isupper() and not starts_sentence:
                values.add(lower)
            elif lower not in STOPWORDS and lower not in UPDATE_CUES and len(lower) > 2:
                words.add(lower)
            starts_sentence = False
        starts_sentence = raw.endswith((".", "!", "?", ":"))
    return values, words


def updates(newer: str, older: str) -> bool:
    new_values, new_words = _split(newer)
    old_values, old_words = _split(older)
    if not (new_values - old_values) or not (old_values - new_values):
        return False
    if not any(token.lower() in UPDATE_CUES for token in _TOKEN.findall(newer)):
        return False
    if not new_words or not old_words:
        return False
    return len(new_words & old_words) / len(new_words | old_words) >= 1 / 3


def same_values(a: str, b: str) -> bool:
    """Both texts state the same numbers, dates and names (or none)."""
    return _split(a)[0] == _split(b)[0]
