"""The dates behind relative words in an answer: "last week", copied from a cited memory, is
shown with the period it named on that memory's day.

A small model asked "when?" often answers with the memory's own words ("last week") even
when the prompt gives the period beside the line (docs/BENCHMARKS.md). Said at question
time, those words point at the wrong week. The answer is left as the model wrote it; papertape
marks it with what the words meant where they were said, from the time words consolidation
read for each memory (agent/memory/times.py). The match is the words themselves found in
the answer, so it needs no language's vocabulary.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from agent.lines import held_period
from storage import Memory, TimeWords


@dataclass(frozen=True)
class AnswerDate:
    memory_id: int  # the cited memory that said the words
    words: str  # as the memory wrote them: "last week"
    period: str  # what they named on its day: "week of Mon 29 May 2023"


def answer_dates(
    answer: str, cited: Sequence[Memory], times: Mapping[int, TimeWords]
) -> tuple[AnswerDate, ...]:
    """For each cited memory whose time words the answer repeats, the period they name.
    A memory whose text no longer holds the words (a gist) is skipped, as in the prompt."""
    said = " ".join(answer.split()).casefold()
    dates: list[AnswerDate] = []
    seen: set[tuple[str, str]] = set()
    for memory in cited:
        time = times.get(memory.id)
        if time is None or not time.words or time.words.casefold() not in said:
            continue
        period = held_period(time, memory.occurred_at, memory.text)
        if period is None or (time.words.casefold(), period) in seen:
            continue
        seen.add((time.words.casefold(), period))
        dates.append(AnswerDate(memory.id, time.words, period))
    return tuple(dates)
