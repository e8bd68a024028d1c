"""Time at the agent's edge: parsing user times and the explicit clock (`--now`).

Below the agent nothing reads the wall clock; every function that ages or schedules is given
`now`. Times are UTC epoch seconds, kept to whole microseconds so that they survive an
export to ISO 8601 and back unchanged.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime

from agent.errors import UserError

NOW_ENV = "PAPERTAPE_NOW"


def quantize(epoch: float) -> float:
    return round(epoch, 6)


def parse_time(text: str, *, what: str = "time") -> float:
    """ISO 8601 date or date-time (naive means local time), or 'now'; epoch seconds."""
    value = text.strip()
    if value.lower() == "now":
        return quantize(time.time())
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise UserError(
            f"cannot read {what} {text!r}: use ISO 8601, like 2024-03-01 or 2024-03-01T09:30."
        ) from None
    try:
        if parsed.tzinfo is None:
            parsed = parsed.astimezone()  # the person's own time zone
        return quantize(parsed.timestamp())
    except (ValueError, OverflowError, OSError):  # year 1, or past what the clock counts
        raise UserError(f"cannot use {what} {text!r}: it is too far from today.") from None


def resolve_now(flag: str | None) -> float:
    """The clock for this command: --now, else PAPERTAPE_NOW, else the wall clock."""
    if flag:
        return parse_time(flag, what="--now")
    env = os.environ.get(NOW_ENV)
    if env:
        return parse_time(env, what=NOW_ENV)
    return quantize(time.time())


def iso(epoch: float | None) -> str | None:
    """UTC ISO 8601 with microseconds when there are any, ending in Z."""
    if epoch is None:
        return None
    moment = datetime.fromtimestamp(epoch, tz=UTC)
    text = moment.isoformat(timespec="microseconds" if moment.microsecond else "seconds")
    return text.replace("+00:00", "Z")


def local_date(epoch: float) -> str:
    return datetime.fromtimestamp(epoch).astimezone().strftime("%Y-%m-%d %H:%M")
