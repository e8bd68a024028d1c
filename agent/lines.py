"""A memory as a language model is shown it: one line with its id, its day and its text.

The answer prompt, the fact writer and the update judge all show memories in this one shape.
"""

from __future__ import annotations

from datetime import datetime


def render_line(memory_id: int, occurred_at: float, text: str) -> str:
    """One memory as the model sees it: "[12] (Sun 7 May 2023) text". The day, not the
    minute, with its weekday, written as people write it, since models copy it into answers."""
    return f"[{memory_id}] ({written_day(occurred_at)}) {' '.join(text.split())}"


def written_day(occurred_at: float) -> str:
    """The local day as people write it, with its weekday: "Sun 7 May 2023"."""
    when = datetime.fromtimestamp(occurred_at).astimezone()
    return f"{when:%a} {when.day} {when:%B %Y}"
