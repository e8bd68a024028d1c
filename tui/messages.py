"""Typed messages that workers post back to the UI thread."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from agent.answer.session import Answer
from agent.api import RecallHit


class MemoryChosen(Message):
    """The person picked a memory somewhere (a citation, a search hit, a timeline row)."""

    def __init__(self, memory_id: int) -> None:
        super().__init__()
        self.memory_id = memory_id


class StoreChanged(Message):
    """Memories were added, edited, pinned or forgotten: views that list them refresh."""


@dataclass
class AnswerToken(Message):
    text: str


@dataclass
class AnswerDone(Message):
    answer: Answer


@dataclass
class AnswerFailed(Message):
    reason: str


@dataclass
class SearchResults(Message):
    query: str
    hits: list[RecallHit]
