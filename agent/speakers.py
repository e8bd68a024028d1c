"""Who said what: memories written as transcript lines ("Caroline: I ran a charity race").

A question about one person ("What did Caroline realize after the race?") is answered only by
something that person said. When two people talk, the other one's line about the same race
is close in meaning and in words, so recall returns it and a small model reports it as the
named person's, which is wrong. agent/chat.py uses this module to refuse such an answer.

The rule applies only where it can: the memories shown must come from at least two speakers
(a transcript), and the question must name exactly one of them. Notes without a speaker, or a
question that names both people or neither, are left alone. Chosen on one LoCoMo conversation
and measured on six others (docs/BENCHMARKS.md, "Who said it"). agent/chat.py does not apply it
to "when" questions, whose date the other person's reply carries as well.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from storage import Memory

# "Name: text", a name being one to three capitalised words (not "TODO:", not "Q:").
_SPEAKER = re.compile(r"([A-Z][a-z][\w'-]*(?: [A-Z][a-z][\w'-]*){0,2}):\s")


def speaker_of(memory: Memory) -> str | None:
    """The person a transcript line is said by, or None for anything else."""
    if memory.kind == "chat":  # papertape's own "Q: ... A: ..." turns
        return None
    match = _SPEAKER.match(memory.text)
    return match.group(1) if match else None


def named_speaker(question: str, shown: Iterable[Memory]) -> str | None:
    """The one speaker of the shown transcript lines whom the question names, if exactly one."""
    speakers = {s for s in map(speaker_of, shown) if s is not None}
    if len(speakers) < 2:
        return None
    named = [s for s in speakers if re.search(rf"\b{re.escape(s)}\b", question)]
    return named[0] if len(named) == 1 else None
