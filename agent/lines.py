"""A memory as a language model is shown it: one line with its id, its day and its text.

The answer prompt, the fact writer and the update judge all show memories in this one shape.
"""

from __future__ import annotations

from agent.when import day_text, local_day, named_period
from storage import TimeWords


def render_line(
    memory_id: int, occurred_at: float, text: str, time: TimeWords | None = None
) -> str:
    """One memory as the model sees it: "[12] (Mon 8 May 2023) text". The day, not the
    minute, with its weekday, written as people write it, since models copy it into answers.
    With `time`, the period its relative words name follows, worked out:
    '... yesterday. ("yesterday": Sun 7 May 2023)'."""
    flat = " ".join(text.split())
    line = f"[{memory_id}] ({written_day(occurred_at)}) {flat}"
    period = held_period(time, occurred_at, flat)
    if period is not None and time is not None:
        line += f' ("{time.words}": {period})'
    return line


def held_period(time: TimeWords | None, occurred_at: float, text: str) -> str | None:
    """The period `time` names, said on the memory's day, while `text` still holds its words
    (a gist may have lost them); None for the memory's own day, week, month or year."""
    if time is None or time.words.casefold() not in " ".join(text.split()).casefold():
        return None
    return named_period(time, occurred_at)


def written_day(occurred_at: float) -> str:
    """The local day as people write it, with its weekday: "Sun 7 May 2023"."""
    return day_text(local_day(occurred_at))
