"""Gists and episode summaries: what stays readable once verbatim text is dropped.

A gist is one line: the memory's first sentence, cut at a word. (Its words leave only once
facts rest on the memory, so the gist points at it rather than holding its knowledge.) A
summary covers an episode (memories of one source, close in time). The local LLM writes it
when one is loaded; otherwise, and whenever the model returns nothing usable, an extractive
summary picks the sentences that share the most telling words with the rest of the episode.

Nothing here knows a language: sentences end at the full stops of Latin and CJK scripts, and
a word's weight comes from how many of the episode's sentences hold it, not from a word list.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Sequence
from typing import Protocol

from models.generator import ChatMessage, Generator, generate

# A sentence ends at a full stop, question or exclamation mark followed by a space, or at
# the CJK ones, which need none.
_SENTENCE = re.compile(r"(?<=[.!?])\s+|(?<=[。！？])\s*")
_WORD = re.compile(r"\w+")
ELLIPSIS = "…"


def summary_hash(member_ids: Sequence[int], text: str) -> str:
    """A summary's content hash: its words and the members it covers, so the same words over
    another episode are another summary."""
    ids = ",".join(str(m) for m in member_ids)
    return hashlib.sha256(f"summary:{ids}\n{text}".encode()).hexdigest()


def _abbreviated(word: str) -> bool:
    """A short capitalised word before a full stop ("Dr.", "St.", "J.") is a title or an
    initial, not a sentence's end; nor is a number of one or two digits, which many
    languages write as an ordinal ("am 12. Januar", "den 3. maj"): cut there, a date loses
    its month. A sentence ending in such a number stays joined to the next."""
    stem = word.rstrip(".")
    if not word.endswith(".") or not 0 < len(stem) <= 2:
        return False
    return stem[:1].isupper() or stem.isdigit()


def sentences(text: str) -> list[str]:
    flat = " ".join(text.split())
    found: list[str] = []
    start = 0
    for match in _SENTENCE.finditer(flat):
        if match.end() == len(flat):
            break
        before = flat[start : match.start()].rsplit(" ", 1)[-1]
        if _abbreviated(before) or flat[match.end()].islower():
            continue  # "Dr. Silva", "5 p.m. today": a sentence opens with no small letter
        found.append(flat[start : match.start()])
        start = match.end()
    found.append(flat[start:])
    return [s for s in found if s]


def first_sentence(text: str) -> str:
    found = sentences(text)
    return found[0] if found else ""


def _cut(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    head = text[: max_chars - 1]
    if " " in head:
        head = head.rsplit(" ", 1)[0]
    return head.rstrip(" ,;:") + ELLIPSIS


def gist(text: str, max_chars: int = 80) -> str:
    """One line: the memory's first sentence, cut at a word."""
    return _cut(first_sentence(text), max_chars)


class Summarizer(Protocol):
    name: str

    def summarize(self, texts: Sequence[str]) -> str: ...


class ExtractiveSummarizer:
    """The sentences most central to the episode, in their original order."""

    name = "extractive"

    def __init__(self, max_chars: int = 400) -> None:
        self.max_chars = max_chars

    def summarize(self, texts: Sequence[str]) -> str:
        parts = [s for text in texts for s in sentences(text)]
        if not parts:
            return ""
        words = [set(_WORD.findall(part.casefold())) for part in parts]
        held_by = Counter(w for found in words for w in found)
        total = len(parts)

        def centrality(index: int) -> float:
            # A word counts for the other sentences that share it, weighted down the more
            # sentences hold it: glue words, in any language, are in nearly all of them.
            shared = sum(
                (held_by[w] - 1) * math.log((total + 1) / held_by[w]) for w in words[index]
            )
            return float(shared / (1 + len(words[index])) ** 0.5)

        chosen: list[int] = []
        size = 0
        scores = [centrality(i) for i in range(total)]
        for index in sorted(range(total), key=lambda i: (-scores[i], i)):
            if chosen and (scores[index] == 0 or size + len(parts[index]) + 1 > self.max_chars):
                continue  # too long for what is left, or it shares nothing with the rest
            chosen.append(index)
            size += len(parts[index]) + 1
            if size >= self.max_chars:
                break
        return _cut(" ".join(parts[i] for i in sorted(chosen)), self.max_chars)


SUMMARY_PROMPT = (
    "Summarise these memories of one episode in two to four sentences. Keep names, dates, "
    "places, numbers and decisions; leave out greetings and small talk. Write only the summary."
)


class ModelSummarizer:
    """Summaries written by the local language model; extractive when it returns nothing."""

    def __init__(self, generator: Generator, max_tokens: int = 120) -> None:
        self.generator = generator
        self.max_tokens = max_tokens
        self.name = f"model:{generator.name}"
        self.fallback = ExtractiveSummarizer()

    def summarize(self, texts: Sequence[str]) -> str:
        budget = self.generator.context_tokens - self.max_tokens - 64
        lines: list[str] = []
        used = self.generator.count_tokens(SUMMARY_PROMPT)
        for text in texts:  # as many of the episode's memories as the context holds
            line = "- " + " ".join(text.split())
            cost = self.generator.count_tokens(line) + 1
            if used + cost > budget:
                break
            lines.append(line)
            used += cost
        if not lines:
            return self.fallback.summarize(texts)
        prompt = self.generator.format_chat(
            [
                ChatMessage("system", SUMMARY_PROMPT),
                ChatMessage("user", "\n".join(lines)),
            ]
        )
        reply = " ".join(generate(self.generator, prompt, max_tokens=self.max_tokens).split())
        return reply if len(reply) >= 20 else self.fallback.summarize(texts)
