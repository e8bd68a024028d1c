"""Gists and episode summaries: what stays readable once verbatim text is dropped.

A gist is one line: the memory's first sentence with its glue words taken out, cut at a
word. A summary covers an episode (memories of one source, close in
time). The local LLM writes it when one is loaded; otherwise, and whenever the model returns
nothing usable, an extractive summary picks the sentences that share the most content words
with the rest of the episode.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Protocol

from agent.recall import STOPWORDS
from models.generator import ChatMessage, Generator, generate

_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"\w+")
ELLIPSIS = "…"


# Words whose full stop does not end a sentence.
ABBREVIATIONS = frozenset("dr mr mrs ms prof st vs etc e.g i.e no jr sr".split())


def first_sentence(text: str) -> str:
    flat = " ".join(text.split())
    for match in _SENTENCE.finditer(flat):
        before = flat[: match.start()].rsplit(" ", 1)[-1].rstrip(".").lower()
        if before not in ABBREVIATIONS:
            return flat[: match.start()]
    return flat


def _cut(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    head = text[: max_chars - 1]
    if " " in head:
        head = head.rsplit(" ", 1)[0]
    return head.rstrip(" ,;:") + ELLIPSIS


def gist(text: str, max_chars: int = 80) -> str:
    """One line that keeps the memory's most telling words."""
    words = first_sentence(text).split()
    kept = [w for w in words if w.lower().strip(".,!?;:'\"") not in STOPWORDS]
    return _cut(" ".join(kept or words), max_chars)


class Summarizer(Protocol):
    name: str

    def summarize(self, texts: Sequence[str]) -> str: ...


class ExtractiveSummarizer:
    """The sentences most central to the episode, in their original order."""

    name = "extractive"

    def __init__(self, max_chars: int = 400) -> None:
        self.max_chars = max_chars

    def summarize(self, texts: Sequence[str]) -> str:
        sentences = [s for text in texts for s in _SENTENCE.split(" ".join(text.split())) if s]
        if not sentences:
            return ""

        def content(sentence: str) -> list[str]:
            return [w for w in _WORD.findall(sentence.lower()) if w not in STOPWORDS]

        counts = Counter(w for s in sentences for w in set(content(s)))

        def centrality(index: int) -> float:
            words = set(content(sentences[index]))
            return sum(counts[w] for w in words) / (1 + len(words)) ** 0.5

        chosen: list[int] = []
        size = 0
        for index in sorted(range(len(sentences)), key=lambda i: (-centrality(i), i)):
            if size + len(sentences[index]) + 1 > self.max_chars and chosen:
                continue
            chosen.append(index)
            size += len(sentences[index]) + 1
            if size >= self.max_chars:
                break
        return _cut(" ".join(sentences[i] for i in sorted(chosen)), self.max_chars)


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
