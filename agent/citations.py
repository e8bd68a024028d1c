"""Which memories an answer rests on: the ids the model cited, checked, else the memories
that hold the answer's own words.

Small local models often answer correctly without writing the ids they were asked for, and
sometimes write ids they were never shown. A cited id counts only if that memory was in the
prompt; when none counts, the memories that contain the answer's content words (those not
already in the question) are cited instead. An answer with such words that no memory holds
is not supported by memory, and papertape says it does not know.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from agent.recall import STOPWORDS
from storage import Memory

CITATION = re.compile(r"\[\s*#?(\d+(?:\s*[,;]\s*#?\d+)*)\s*\]|#(\d+)\b")
_WORD = re.compile(r"\w+", re.UNICODE)
_DONT_KNOW = re.compile(
    r"\b(i\s+(do\s+not|don'?t|don’t)\s+know|not\s+sure|no\s+(information|memor(y|ies))|"
    r"(memories|they)\s+do(es)?\s*(not|n'?t|n’t)\s+(say|mention))\b",
    re.IGNORECASE,
)
# Words an answer uses for its own phrasing, not for its content.
_FILLER = STOPWORDS | frozenset(
    """yes no not also just very like said says according memory memories mentioned user
    your you're i'm am know don't""".split()
)


def cited_ids(answer: str, shown: Sequence[Memory]) -> list[int]:
    """Ids the answer cites, in order of first mention, that were among the shown memories."""
    allowed = {m.id for m in shown}
    found: list[int] = []
    for match in CITATION.finditer(answer):
        for number in re.findall(r"\d+", match.group(1) or match.group(2)):
            if int(number) in allowed and int(number) not in found:
                found.append(int(number))
    return found


def citation_of(answer: str, memory_id: int) -> re.Match[str] | None:
    """The first citation in the answer that names this id ("[12]", "[3, 12]", "#12")."""
    for match in CITATION.finditer(answer):
        if str(memory_id) in re.findall(r"\d+", match.group(1) or match.group(2)):
            return match
    return None


def content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _FILLER and len(w) > 1}


def supporting(answer: str, question: str, shown: Sequence[Memory]) -> list[int]:
    """Memories holding the answer's new content words, most words first."""
    words = content_words(CITATION.sub(" ", answer)) - content_words(question)
    if not words:
        return []
    scored = []
    for position, memory in enumerate(shown):
        overlap = len(words & content_words(memory.text))
        if overlap:
            scored.append((-overlap, position, memory.id))
    return [memory_id for _, _, memory_id in sorted(scored)]


def says_dont_know(answer: str) -> bool:
    return bool(_DONT_KNOW.search(answer))


def has_content(answer: str, question: str) -> bool:
    """Whether the answer says anything beyond the question's words and filler."""
    return bool(content_words(CITATION.sub(" ", answer)) - content_words(question))


# "When ...?", and the same question asked for a unit of time: "Which week did Tim visit the
# UK?", "What year did John start surfing?", "In which month ...?".
_WHEN = re.compile(
    r"\s*(?:when|(?:in |on |during )?(?:which|what) (?:week|weekend|month|year|day|date))\b",
    re.IGNORECASE,
)
_DATE = re.compile(
    r"\b(?:(?:1[89]|20)\d\d|jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|"
    r"july?|aug(?:ust)?|sep(?:t|tember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|"
    r"(?:mon|tues|wednes|thurs|fri|satur|sun)day|today|tonight|yesterday|tomorrow|ago)\b",
    re.IGNORECASE,
)


def asks_when(question: str) -> bool:
    return bool(_WHEN.match(question))


def has_date(answer: str, question: str = "") -> bool:
    """Whether the answer says when: a month, a year, a weekday or a relative day (ids in
    brackets do not count, nor does a date the question already holds: "When did John hurt
    his ankle in 2023?" is not answered by "in 2023")."""
    asked = {m.group().lower() for m in _DATE.finditer(question)}
    said = {m.group().lower() for m in _DATE.finditer(CITATION.sub(" ", answer))}
    return bool(said - asked)


def is_yes_or_no(answer: str) -> bool:
    words = _WORD.findall(answer.lower())
    return bool(words) and words[0] in ("yes", "no")
