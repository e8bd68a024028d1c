"""Split a long text into passages an embedder can read whole: paragraphs, then sentences,
then words, packed greedily up to a character budget."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

_PARAGRAPH = re.compile(r"\n\s*\n")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def _pieces(text: str, limit: int) -> list[str]:
    """Units no longer than `limit`: paragraphs, broken into sentences or words if too long."""
    units: list[str] = []
    for paragraph in _PARAGRAPH.split(text):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        if len(paragraph) <= limit:
            units.append(paragraph)
            continue
        for sentence in _SENTENCE.split(paragraph):
            if len(sentence) <= limit:
                units.append(sentence)
                continue
            line = ""
            for word in sentence.split():
                while len(word) > limit:  # a run with no spaces: cut it hard
                    if line:
                        units.append(line)
                        line = ""
                    units.append(word[:limit])
                    word = word[limit:]
                if line and len(line) + 1 + len(word) > limit:
                    units.append(line)
                    line = word
                else:
                    line = f"{line} {word}" if line else word
            if line:
                units.append(line)
    return units


def split_passages(text: str, limit: int) -> list[str]:
    """Passages of at most `limit` characters that together hold all of `text`'s words."""
    stripped = text.strip()
    if len(stripped) <= limit:
        return [stripped] if stripped else []
    passages: list[str] = []
    current = ""
    for unit in _pieces(stripped, limit):
        joiner = "\n\n" if current else ""
        if current and len(current) + len(joiner) + len(unit) > limit:
            passages.append(current)
            current = unit
        else:
            current = f"{current}{joiner}{unit}"
    if current:
        passages.append(current)
    return passages


def title_of(text: str, fallback: str) -> str:
    """A document's title: its first non-empty line without markdown heading marks."""
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            return line[:120]
    return fallback


def in_groups(items: Iterable[T], size: Callable[[T], int], most: int) -> Iterator[list[T]]:
    """Consecutive runs of `items` whose sizes add up to about `most` (one embedding call)."""
    group: list[T] = []
    total = 0
    for item in items:
        group.append(item)
        total += size(item)
        if total >= most:
            yield group
            group, total = [], 0
    if group:
        yield group
