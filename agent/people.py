"""Whose lines hold a text's words: the person a text names among a store's speakers, and
whether the lines it rests on were said by them, name them, or neither.

Used where a small model tells one person's act as another's: an answer about one person
resting on another's lines (agent/answer/check.py, agent/answer/whose.py), and a fact made
at consolidation that gives a speaker's act to the other speaker (agent/memory/facts.py).
Names and texts are compared as words (agent/words.py), so this knows no language's
vocabulary.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

from agent.words import words

Whose = Literal["theirs", "named", "others"]


def asked_about(text: str, people: Sequence[str]) -> str | None:
    """The one person of `people` the text names, or None (no one, or several)."""
    said = words(text)
    named = [person for person in people if words(person) and words(person) <= said]
    return named[0] if len(named) == 1 else None


def named_elsewhere(
    answer: str, question: str, texts: Iterable[str], people: Sequence[str]
) -> str | None:
    """A person of `people` the answer names whom neither the question nor the cited texts
    name (a spoken line's text opens with its speaker's name, so their own lines count), or
    None. Such an answer gives something to someone its memories do not tie to it ("Anna
    booked the table" from a note that says Jonas did)."""
    held = words(question).union(*(words(text) for text in texts))
    said = words(answer)
    for person in people:
        name = words(person)
        if name and name <= said and not name <= held:
            return person
    return None


def holders(
    person: str, told: set[str], lines: Mapping[int, str], speakers: Mapping[int, str]
) -> Whose | None:
    """Whose the lines holding most of the words `told` are: "theirs" (one is said by
    `person`), "named" (someone else said them, and one names `person`) or "others"
    (neither). None when no line holds any of them.

    A name in someone else's line may be what the line is about ("Bo: Anna, your new flat
    looks lovely") or only whom it is said to ("Bo: Hey Anna, I ran my first race!"): words
    cannot tell which, so "named" is left to the caller (for answers, the model reads it:
    agent/answer/whose.py)."""

    def held(memory_id: int) -> int:
        # The speaker's name opens their line; it says who spoke, not what the line holds.
        said_by = speakers.get(memory_id)
        own = words(lines[memory_id]) - (words(said_by) if said_by else set())
        return len(told & own)

    if not told or not lines:
        return None
    most = max(held(i) for i in lines)
    if most == 0:
        return None
    holding = [i for i in lines if held(i) == most]
    if any(speakers.get(i) == person for i in holding):
        return "theirs"
    if any(words(person) <= words(lines[i]) for i in holding):
        return "named"
    return "others"


def whose_lines(
    question: str,
    answer: str,
    cited: Mapping[int, str],
    speakers: Mapping[int, str],
    people: Sequence[str],
) -> tuple[str, Whose] | None:
    """The person the answer is about, and whose the cited lines holding most of the
    answer's other words are (`holders`). The person is the one known speaker the question
    names or, when it names none ("and at what time?"), the one the answer names. None when
    there is nothing to decide: no one such person, the answer adds no words of its own
    ("Yes", a bare name), or none of its words are in the lines (the word and meaning tests
    decide).

    `cited`: the cited memories' texts by id; `speakers`: who said those that were said;
    `people`: everyone the store knows as a speaker."""
    person = asked_about(question, people)
    told = words(answer) - words(question)
    if person is None:
        person = asked_about(answer, people)
        if person is None:
            return None
        told -= words(person)
    whose = holders(person, told, cited, speakers)
    return None if whose is None else (person, whose)


def whose_fact(
    fact: str, sources: Mapping[int, str], speakers: Mapping[int, str], people: Sequence[str]
) -> tuple[str, Whose] | None:
    """The one speaker a fact names, and whose its source lines holding most of its other
    words are: `whose_lines` with no question."""
    return whose_lines("", fact, sources, speakers, people)
