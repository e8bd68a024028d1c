"""Relative dates pinned to the calendar when a memory is stored.

"I went there last Saturday", stored with the day it was said, becomes "I went there last
Saturday [6 May 2023]", so a question asked months later ("when did ...?") finds a date, and
the model does not have to count back from the memory's own date. Understood: yesterday,
today, tonight, tomorrow; last/this/next <weekday>; last/next week, month, year, weekend;
N days/weeks/months/years ago (N in digits or words up to twelve). Weeks start on Monday.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "a couple of": 2,
    "couple of": 2, "a few": 3, "few": 3,
}  # fmt: skip
_NUMBER = r"(\d{1,3}|" + "|".join(sorted(NUMBERS, key=len, reverse=True)) + ")"
_PATTERN = re.compile(
    r"\b(?:"
    r"(?P<simple>yesterday|today|tonight|tomorrow)"
    r"|(?P<which>last|this|next|past) (?P<day>" + "|".join(WEEKDAYS) + r")"
    r"|(?P<which2>last|next|this|past) (?P<unit>week|weekend|month|year)"
    r"|(?P<count>" + _NUMBER[1:-1] + r") (?P<unit2>day|week|month|year)s? ago"
    r")\b",
    re.IGNORECASE,
)
# A date pin_dates wrote: "[6 May 2023]", "[week of 1 May 2023]", "[December 2022]", "[2023]".
PINNED = re.compile(r"\[((?:week of |weekend of )?(?:\d{1,2} )?(?:[A-Z][a-z]+ )?\d{4})\]")
_ALREADY = re.compile(r"\s*" + PINNED.pattern)


def _day(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def _month(day: date) -> str:
    return f"{day:%B %Y}"


def _months_back(day: date, months: int) -> date:
    month = day.month - 1 - months
    year = day.year + month // 12
    return date(year, month % 12 + 1, 1)


def resolve(match: re.Match[str], today: date) -> str | None:
    groups = {k: (v.lower() if v else v) for k, v in match.groupdict().items()}
    if groups["simple"]:
        shift = {"yesterday": -1, "today": 0, "tonight": 0, "tomorrow": 1}[groups["simple"]]
        return _day(today + timedelta(days=shift))
    if groups["day"]:
        target = WEEKDAYS.index(groups["day"])
        delta = target - today.weekday()
        if groups["which"] in ("last", "past"):
            delta = delta - 7 if delta >= 0 else delta
        elif groups["which"] == "next":
            delta = delta + 7 if delta <= 0 else delta
        return _day(today + timedelta(days=delta))
    if groups["unit"]:
        which, unit = groups["which2"], groups["unit"]
        step = {"last": -1, "past": -1, "this": 0, "next": 1}[which]
        if unit in ("week", "weekend"):
            monday = today - timedelta(days=today.weekday()) + timedelta(weeks=step)
            if unit == "weekend":
                return f"weekend of {_day(monday + timedelta(days=5))}"
            return f"week of {_day(monday)}"
        if unit == "month":
            return _month(_months_back(today, -step))
        return str(today.year + step)
    if groups["count"]:
        raw = groups["count"]
        count = int(raw) if raw.isdigit() else NUMBERS[raw]
        unit = groups["unit2"]
        if unit == "day":
            return _day(today - timedelta(days=count))
        if unit == "week":
            return f"week of {_day(today - timedelta(weeks=count, days=today.weekday()))}"
        if unit == "month":
            return _month(_months_back(today, count))
        return str(today.year - count)
    return None


def pin_dates(text: str, occurred_at: float) -> str:
    """`text` with each relative date followed by the calendar date it meant."""
    today = datetime.fromtimestamp(occurred_at).astimezone().date()
    pieces = []
    last = 0
    for match in _PATTERN.finditer(text):
        if _ALREADY.match(text, match.end()):
            continue  # pinned before (an import, a re-ingest)
        resolved = resolve(match, today)
        if resolved is None:
            continue
        pieces.append(text[last : match.end()])
        pieces.append(f" [{resolved}]")
        last = match.end()
    pieces.append(text[last:])
    return "".join(pieces)


def pinned_dates(text: str) -> list[str]:
    """The calendar dates pinned in a stored text, in order: "I went last month [December
    2022]" holds "December 2022"."""
    return PINNED.findall(text)
