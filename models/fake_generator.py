"""A scripted generator for logic tests: replies are given up front, tokens are words.

It is registered like the real backends (the model name "fake"), so the command line and the
chat session can be driven end to end without a model. With no reply scripted, it answers by
quoting the first memory line of the prompt (one like "(7 May 2023) text [12]"), citation
included, or says it does not know when the prompt has none.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence

from models.generator import ChatMessage, cut_at_stops

_TOKEN = re.compile(r"\s*\S+|\s+")
_MEMORY_LINE = re.compile(r"^\(\d{1,2} \w+ \d{4}\) .*\[\d+\]$")


class ScriptedGenerator:
    name = "fake"

    def __init__(
        self,
        replies: Sequence[str | None] = (),
        *,
        context_tokens: int = 2048,
        delay_s: float = 0.0,
    ) -> None:
        self.replies = list(replies)
        self.context_tokens = context_tokens
        self.delay_s = delay_s
        self.prompts: list[str] = []  # every prompt it was given, for assertions

    def format_chat(self, messages: Sequence[ChatMessage]) -> str:
        body = "".join(f"<|{m.role}|>\n{m.content}\n" for m in messages)
        return body + "<|assistant|>\n"

    def count_tokens(self, text: str) -> int:
        return len(_TOKEN.findall(text))

    def stream(self, prompt: str, *, max_tokens: int, stop: Sequence[str] = ()) -> Iterator[str]:
        self.prompts.append(prompt)
        reply = self.replies.pop(0) if self.replies else None
        if reply is None:
            quoted = [line for line in prompt.split("\n") if _MEMORY_LINE.match(line)]
            reply = quoted[0] if quoted else "I don't know."

        def tokens() -> Iterator[str]:
            for token in _TOKEN.findall(reply)[:max_tokens]:
                if self.delay_s:
                    time.sleep(self.delay_s)
                yield token

        return cut_at_stops(tokens(), stop)
