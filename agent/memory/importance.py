"""Importance (0-1) from simple signals, and optionally from a rating by the local LLM.

Signals, added to a base by kind and clamped to [0, 1]:
- kind: summaries 0.5 (they stand for many memories); notes, documents, audio 0.4;
  chat turns and screenshots 0.3 (much of both is passing talk or screen clutter);
- length: up to +0.15, growing with the log of the word count (a one-word note says little);
- named things: +0.04 for each capitalised word inside a sentence, number or date, up to +0.2;
- recalls: +0.05 for each time it was recalled, up to +0.2;
- pinned: 1.
Where a model is loaded, its 1-5 rating is averaged in with the same weight as the signals:
what a note says matters (a "don't forget", a life event) is the model's to read, in any
language, not a word list's.
"""

from __future__ import annotations

import math
import re

from agent.memory.duplicates import stated_values
from models.generator import ChatMessage, Generator, generate
from storage import Memory

KIND_BASE = {"summary": 0.5, "text": 0.4, "document": 0.4, "audio": 0.4}
DEFAULT_BASE = 0.3
_WORD = re.compile(r"[\w'-]+")


def named_things(text: str) -> int:
    """Names and numbers: capitalised words not opening a sentence, and words holding
    digits (agent/memory/duplicates.py)."""
    return len(stated_values(text))


def signal_importance(text: str, kind: str, *, recalls: int = 0, pinned: bool = False) -> float:
    if pinned:
        return 1.0
    words = len(_WORD.findall(text))
    score = KIND_BASE.get(kind, DEFAULT_BASE)
    score += 0.15 * min(1.0, math.log1p(words) / math.log1p(200))
    score += min(0.2, 0.04 * named_things(text))
    score += min(0.2, 0.05 * recalls)
    return round(min(1.0, max(0.0, score)), 4)


def memory_importance(memory: Memory, text: str | None = None) -> float:
    """Signals for a stored memory (its current text unless the original is given)."""
    return signal_importance(
        memory.text if text is None else text,
        memory.kind,
        recalls=memory.recall_count,
        pinned=memory.pinned,
    )


RATING_PROMPT = (
    "How important is this memory for a person to keep for years? Answer with one digit: "
    "1 = small talk or trivia, 3 = useful detail, 5 = key fact, plan, date or life event."
)
_DIGIT = re.compile(r"[1-5]")


def rate_with_model(generator: Generator, text: str) -> float | None:
    """The model's 1-5 rating mapped to 0-1, or None when it gives no digit."""
    prompt = generator.format_chat(
        [
            ChatMessage("system", RATING_PROMPT),
            ChatMessage("user", f"Memory: {text[:1500]}\nRating (1-5):"),
        ]
    )
    reply = generate(generator, prompt, max_tokens=4)
    found = _DIGIT.search(reply)
    return None if found is None else (int(found.group()) - 1) / 4.0


def blended(signals: float, rating: float | None) -> float:
    return signals if rating is None else round((signals + rating) / 2.0, 4)
