"""Are two memories close in meaning one memory said twice, or two memories?

Vectors cannot tell "level 3, spot B12" from "level 4, spot C7", nor a standup on Monday from
one on Tuesday: the same words around different values. So a near duplicate must also state
the same values. A value is a word holding a digit, or a capitalised word of more than one
letter that does not open a sentence (a name, a place, a month or weekday in the languages
that capitalise them; a lone capital is a pronoun or an initial).
Where a script has no capitals, the digits alone decide, and fewer pairs are merged: when in
doubt, two memories stay two.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"\w+")
_SENTENCE_END = (".", "!", "?", ":", "。", "！", "？")


def stated_values(text: str) -> list[str]:
    """The numbers and names a text states, in order, as written (agent/memory/importance.py
    counts them too)."""
    found: list[str] = []
    opens_sentence = True
    for raw in text.split():
        for token in _TOKEN.findall(raw):
            if any(char.isdigit() for char in token) or (
                len(token) > 1 and token[:1].isupper() and not opens_sentence
            ):
                found.append(token)
            opens_sentence = False
        opens_sentence = raw.rstrip("\"')]").endswith(_SENTENCE_END)
    return found


def values(text: str) -> set[str]:
    """The numbers and names a text states, case-folded."""
    return {value.casefold() for value in stated_values(text)}


def same_values(a: str, b: str) -> bool:
    """Both texts state the same numbers and names (or none)."""
    return values(a) == values(b)
