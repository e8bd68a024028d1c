"""Whose is it? The model reads who the lines an answer rests on tell it of.

When an answer about one person rests on lines someone else said that name that person
(agent/people.py, `whose_lines`: "named"), the name may be what the line is about
("Bo: Anna, your new flat looks lovely") or only whom it is said to ("Bo: Hey Anna, I ran my
first race!"). Which one is language work, so the model does it, in a short second call:
shown the question, the answer and the lines it cites, each with its day and speaker, it
writes the person they tell this of. The question's person is not given to it: told whom
to look for, the 1.5B wrote that name back (docs/BENCHMARKS.md).

The code then compares names as words, the way the person check does: the answer is marked
when the model names another of the store's speakers and not the one asked about. The model
also says whether the lines tell it of the one asked about ("holds"); it said "no" in none of
the 300-odd replies measured, so only its "who" decides. Asked for "who" alone, with the
same words otherwise, it marked two more answers judged right among the same 20 or so it
was asked about: a wording this small moves a few close calls (docs/BENCHMARKS.md).

`check_person` is the whole person check an answer goes through, by words first: whether
the answer names a known speaker whom neither the question nor its lines name
(`named_elsewhere`); whether, asked of one speaker, it tells it of another and does not name
the one asked about ("What did Anna realise after her race?": "Bo realised ...": the model
itself says whose it is); then the lines' words, and this reading where words cannot tell.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from agent.people import asked_about, named_elsewhere, whose_lines
from agent.words import words
from models.generator import ChatMessage, Generator, generate, json_reply

INSTRUCTIONS = (
    "You check an answer against the memories it rests on. The user gives a question, an "
    "answer and the memories, each with its day and who said it. Reply in JSON: "
    '"who": the person the memories tell this of (who did, said or has it); '
    '"holds": "yes" when the memories tell it of the one the question asks about, '
    '"no" when they tell it of someone else or do not tell it at all.'
)
WHO_MAX_CHARS = 40
WHO_TOKENS = 4 * WHO_MAX_CHARS + 24  # the whole reply at worst a token a byte


def whose_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "who": {"type": "string", "maxLength": WHO_MAX_CHARS},
            "holds": {"enum": ["yes", "no"]},
        },
        "required": ["who", "holds"],
        "additionalProperties": False,
    }


def read_whose(generator: Generator, question: str, answer: str, lines: Sequence[str]) -> str:
    """The person the model says `lines` (as the answer prompt shows them) tell the answer
    of; "" when its reply cannot be read."""
    user = f"Question: {question}\nAnswer: {answer}\nMemories:\n" + "\n".join(lines)
    prompt = generator.format_chat([ChatMessage("system", INSTRUCTIONS), ChatMessage("user", user)])
    raw = generate(generator, prompt, max_tokens=WHO_TOKENS, schema=whose_schema())
    who = json_reply(raw).get("who")
    return who.strip() if isinstance(who, str) else ""


def someone_else(who: str, person: str, people: Sequence[str]) -> str | None:
    """The other known speaker `who` names, when it names one and not `person`; else None."""
    named = words(who)
    if not named or words(person) <= named:
        return None
    others = [p for p in people if p != person and words(p) and words(p) <= named]
    return others[0] if others else None


@dataclass(frozen=True)
class PersonCheck:
    not_of: str | None = None  # the person asked about, when the lines are not theirs
    told_of: str | None = None  # the other speaker the model read the lines as telling it of
    asked: bool = False  # whether the model was asked whose the lines are
    # a known speaker the answer names whom neither the question nor the lines name
    not_named: str | None = None
    # the other known speaker the answer tells it of, not naming the one asked about
    said_of: str | None = None

    @property
    def passed(self) -> bool:
        return self.not_of is None and self.not_named is None


def check_person(
    generator: Generator,
    question: str,
    answer: str,
    texts: Mapping[int, str],
    lines: Sequence[str],
    speakers: Mapping[int, str],
    people: Sequence[str],
) -> PersonCheck:
    """Whether the answer names a known speaker the cited memories (`texts` as stored,
    `lines` as the prompt showed them) do not name at all, or tells of another speaker
    than the one asked about and not of them; then whether the memories are the
    person's the answer is about (asked about, or else named in the answer): by words where
    they can tell, by the model's reading where someone else's lines name the person (a
    runtime that cannot hold the model to the schema is not asked)."""
    not_named = named_elsewhere(answer, question, texts.values(), people)
    if not_named is not None:  # the memories do not name them at all: no reading needed
        return PersonCheck(not_named=not_named)
    person = asked_about(question, people)
    if person is not None and not words(person) <= words(answer):
        said_of = asked_about(answer, [p for p in people if p != person])
        if said_of is not None:
            return PersonCheck(not_of=person, said_of=said_of)
    asked = False
    whose = whose_lines(question, answer, texts, speakers, people)
    if whose is not None and whose[1] != "theirs":
        lines_are = whose[1]
        if lines_are == "others":
            return PersonCheck(not_of=whose[0])
        # Only for the person the question asks about: one the answer alone names may be
        # named in passing ("... split with Jonas"), and what it tells is not theirs to hold.
        if generator.constrains_output and person is not None and whose[0] == person:
            asked = True
            reading = read_whose(generator, question, answer, lines)
            told_of = someone_else(reading, person, people)
            if told_of is not None:
                return PersonCheck(person, told_of, asked=True)
    return PersonCheck(asked=asked)
