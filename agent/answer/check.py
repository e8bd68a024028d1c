"""The one check on an answer: does what it cites support it? In any language.

An "answered" reply must cite at least one memory it was shown, and what it says must be
found in what it cites, by either of two tests:

- shared words: at least half of the answer's words that the question does not already
  hold appear in the cited memories as the model saw them (text, day and weekday). Words are
  Unicode word runs, and in scripts written without spaces (Chinese, Japanese, Thai) each
  character counts as one, so the test reads every language the same way and knows no
  language's vocabulary;
- meaning: the question and answer together are close in meaning (embedding cosine) to a
  cited memory, which covers a "Yes" or a paraphrase that shares no words. Closeness
  vouches for the topic, not for values: an answer it would pass must not hold a number
  (a word with a digit) that neither the question nor the cited memories hold. With
  `support_reading` on, the model reads whether the memories state it instead
  (agent/answer/stated.py): the embedder reads English only, the model any language; off by
  default, since the 1.5B reads nearly every answer as stated.

The cited memories must also be about what the question asks: the question alone close in
meaning to one of them (`is_about`). A small model asked about a thing never stored answers
with a value from a note on something else ("What did I pay for the car repair?": the rent,
from the lease), which the tests of its words pass.

Both tests of an answer's words let through a wrong answer that shares its memory's words
(another field's number, another person's act): on a held-out set, 36 of 40 unsupported
answers passed (docs/BENCHMARKS.md).

Where the store knows who said its lines (a chat's speakers), a reply must also rest on the
person it is about: when the question names exactly one of those speakers (or names none and
the answer names one: a follow-up "and at what time?"), the cited lines that hold most of the
answer's other words must be said by that person or name them. A
small model given one person's lines about a race, asked what another person realised after
"her" race, answers from the first person's lines; this is that case. Names are compared as
words, so this too knows no language's vocabulary. Lines someone else said that name the
person may be about them or only addressed to them; for those, when the question names the
person, the model says whose they tell it of (agent/answer/whose.py). A person only the
answer names may be named in passing ("split with Jonas"), so those lines are let be.
Whose lines hold a text's words is worked out in agent/people.py, which facts use too.

The check only marks: a reply that fails it is shown in the model's words, marked as not
supported by the person's memories. Nothing is rewritten or replaced.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from agent.answer.stated import read_stated
from agent.ingest.redact import placeholders_as_words
from agent.words import words
from models.embedder import Embedder, embed_query
from models.generator import Generator

WORD_SHARE = 0.5


def shared_share(answer: str, question: str, cited: Sequence[str]) -> float:
    """Of the answer's words the question does not hold, the share the cited texts hold (1.0
    when it adds none)."""
    new = _words(answer) - _words(question)
    if not new:
        return 1.0
    held = set().union(*(_words(text) for text in cited)) if cited else set()
    return len(new & held) / len(new)


def _words(text: str) -> set[str]:
    # A secret's placeholder is one word: "redacted" in another memory's placeholder is
    # no support for an answer that shows one.
    return words(placeholders_as_words(text))


def closeness(embedder: Embedder, answer: str, question: str, cited: Sequence[str]) -> float:
    """The highest cosine between question-and-answer and a cited text."""
    return _closest(embedder, f"{question} {answer}", cited)


def is_about(
    embedder: Embedder, question: str, cited: Sequence[str], *, min_similarity: float
) -> bool:
    """Whether a cited text is about what the question asks: the question alone close in
    meaning to one of them. A value copied from a note on something else (the rent as the
    price of a car repair never noted) shares its note's words, so only this sees it."""
    return bool(cited) and _closest(embedder, question, cited) >= min_similarity


def _closest(embedder: Embedder, text: str, cited: Sequence[str]) -> float:
    if not cited:
        return 0.0
    asked = embed_query(embedder, text)  # the side searched with (e5's "query: ")
    lines = np.asarray(embedder.embed(list(cited)), dtype=np.float32)
    lines /= np.maximum(np.linalg.norm(lines, axis=1, keepdims=True), 1e-12)
    return float((lines @ (asked / max(float(np.linalg.norm(asked)), 1e-12))).max())


def is_supported(
    embedder: Embedder,
    answer: str,
    question: str,
    cited: Sequence[str],
    *,
    min_similarity: float,
    reader: Generator | None = None,
    reading: str = "off",
) -> bool:
    """Whether the cited texts (as the model was shown them) support the answer. With a
    `reader` that can be held to a schema, the model reads whether they state it
    (agent/answer/stated.py): where the word test fails (`reading` "unshared"), or for every
    answer ("every"); closeness decides where it is not asked."""
    if not cited or not answer.strip():
        return False
    shared = shared_share(answer, question, cited) >= WORD_SHARE
    if reader is not None and (reading == "every" or (reading == "unshared" and not shared)):
        stated = read_stated(reader, question, answer, cited)
        if stated is not None:
            return stated
    if shared:
        return True
    # Closeness says the answer is on its lines' topic, not that they hold its values: a
    # number neither they nor the question hold (a seat, a time, a count) was not read there.
    if unheld_numbers(answer, question, cited):
        return False
    return closeness(embedder, answer, question, cited) >= min_similarity


def unheld_numbers(answer: str, question: str, cited: Sequence[str]) -> set[str]:
    """The answer's words with a digit in them (in any script) that neither the question nor
    the cited texts hold."""
    held = _numbers(question).union(*(_numbers(text) for text in cited))
    return _numbers(answer) - held


def _numbers(text: str) -> set[str]:
    return {word for word in _words(text) if any(char.isdigit() for char in word)}
