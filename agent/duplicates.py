"""Are two memories close in meaning one memory said twice, or two memories?

Vectors cannot tell "level 3, spot B12" from "level 4, spot C7", nor a standup on Monday from
one on Tuesday: the same words around different values. So a near duplicate must also state
the same values. A value is a word holding a digit, or a capitalised word that does not open
a sentence (a name, a place, a month or weekday in the languages that capitalise them).
Where a script has no capitals, the digits alone decide, and fewer pairs are merged: when in
doubt, two memories stay two.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"\w+")
_SENTENCE_END = (".", "!", "?", ":", "。", "！", "？")


def values(text: str) -> set[str]:
    """The numbers and names a text states, case-folded."""
    found: set[str] = set()
    opens_sentence = True
    for raw in text.split():
        for token in _TOKEN.findall(raw):
            if any(char.isdigit() for char in token) or (
                token[:1].isupper() and not opens_sentence
            ):
                found.add(token.casefold())
            opens_sentence = False
        opens_sentence = raw.endswith(_SENTENCE_END)
    return found


def same_values(a: str, b: str) -> bool:
    """Both texts state the same numbers and names (or none)."""
    return values(a) == values(b)
