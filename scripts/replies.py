"""A model's replies kept and given back: what lets a LoCoMo run's answers be judged again.

`Recording` wraps a generator and keeps every reply it streams, in order, so a benchmark row
can hold exactly what the model said. `Replaying` stands in for the model: it renders chats and
counts tokens with the real one (so prompts are fitted as they were), but each reply is the
next one recorded, without running the model.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import benchlib  # noqa: F401  (puts the repository root on sys.path)

from models.generator import ChatMessage, Generator


class _Wrapping:
    """Renders chats and counts tokens with the wrapped model: prompts fit as they would."""

    def __init__(self, generator: Generator) -> None:
        self.generator = generator
        self.name = generator.name
        self.context_tokens = generator.context_tokens

    def format_chat(self, messages: Sequence[ChatMessage]) -> str:
        return self.generator.format_chat(messages)

    def count_tokens(self, text: str) -> int:
        return self.generator.count_tokens(text)


class Recording(_Wrapping):
    """A generator that keeps the text of every reply it gives."""

    def __init__(self, generator: Generator) -> None:
        super().__init__(generator)
        self.replies: list[str] = []

    def stream(self, prompt: str, *, max_tokens: int, stop: Sequence[str] = ()) -> Iterator[str]:
        index = len(self.replies)
        self.replies.append("")
        for piece in self.generator.stream(prompt, max_tokens=max_tokens, stop=stop):
            self.replies[index] += piece
            yield piece


class Replaying(_Wrapping):
    """A generator whose replies are the recorded ones, in order; once they run out, an
    empty reply, and `exhausted` says the replay asked for more than was recorded."""

    def __init__(self, generator: Generator, replies: Sequence[str]) -> None:
        super().__init__(generator)
        self.replies = list(replies)
        self.given = 0
        self.exhausted = False

    def stream(self, prompt: str, *, max_tokens: int, stop: Sequence[str] = ()) -> Iterator[str]:
        if self.given < len(self.replies):
            reply = self.replies[self.given]
        else:
            reply, self.exhausted = "", True
        self.given += 1
        if reply:
            yield reply
