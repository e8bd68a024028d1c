"""The period a memory's relative time words name, worked out in code from the memory's day.

The model reads the words ("last Saturday", "letzte Woche", "上个月") and says what they count
in and how far (agent/memory/times.py); the calendar arithmetic is done here, since a small
model copies "last week" rather than count back from a date. Weeks run Monday to Sunday.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from storage import TimeWords

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def local_day(occurred_at: float) -> date:
    return datetime.fromtimestamp(occurred_at).astimezone().date()


def day_text(day: date) -> str:
    """A day as people write it, with its weekday: "Sun 7 May 2023"."""
    return f"{day:%a} {day.day} {day:%B %Y}"


def _shift_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _weekday(day: date, weekday: int, offset: int) -> date:
    """The weekday `offset` of them from `day`: -1 the last one before it, 1 the next one
    after it, 0 the one in its week."""
    if offset == 0:
        return day + timedelta(days=weekday - day.weekday())
    if offset < 0:
        back = (day.weekday() - weekday) % 7 or 7
        return day - timedelta(days=back + 7 * (-offset - 1))
    ahead = (weekday - day.weekday()) % 7 or 7
    return day + timedelta(days=ahead + 7 * (offset - 1))


def named_period(time: TimeWords, occurred_at: float) -> str | None:
    """What `time`, said on the memory's day, names: "Sun 7 May 2023", "week of Mon 1 May
    2023", "weekend of Sat 6 May 2023", "April 2023", "2022". None when it is the memory's
    own day, week, month or year, which the line already gives."""
    day = local_day(occurred_at)
    unit, offset = time.unit, time.offset
    if unit in WEEKDAYS:
        return day_text(_weekday(day, WEEKDAYS.index(unit), offset))
    if offset == 0 and unit != "weekend":
        return None
    if unit == "day":
        return day_text(day + timedelta(days=offset))
    week_start = day - timedelta(days=day.weekday()) + timedelta(weeks=offset)
    if unit == "week":
        return f"week of {day_text(week_start)}"
    if unit == "weekend":
        return f"weekend of {day_text(week_start + timedelta(days=5))}"
    if unit == "month":
        return f"{_shift_months(day, offset):%B %Y}"
    if unit == "year":
        return str(day.year + offset)
    raise ValueError(f"unknown time unit {unit!r}")
