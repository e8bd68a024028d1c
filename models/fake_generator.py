"""A scripted generator for logic tests: replies are given up front, tokens are words.

It is registered like the real backends (the model name "fake"), so the command line and the
chat session can be driven end to end without a model. With no reply scripted it answers from
the memory line of the prompt (one like "[12] (Mon 7 May 2023) text") that shares the most
words with the question, the first of those tied: that line's text (as JSON when a schema is
given, citing the id), or that it does not know when there is none.
It honours a schema only in form: scripted replies are passed through as written, so a test
can also hand the caller malformed output.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator, Sequence

from models.generator import ChatMessage, JsonSchema, cut_at_stops

_TOKEN = re.compile(r"\s*\S+|\s+")
_MEMORY_LINE = re.compile(r"^\[(\d+)\] \([^)]*\) (.*)$")
_WORD = re.compile(r"\w+")
_USER = "<|user|>\n"


class ScriptedGenerator:
    name = "fake"
    constrains_output = True

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
        self.schemas: list[JsonSchema | None] = []  # and the schema that came with it

    def format_chat(self, messages: Sequence[ChatMessage]) -> str:
        body = "".join(f"<|{m.role}|>\n{m.content}\n" for m in messages)
        return body + "<|assistant|>\n"

    def count_tokens(self, text: str) -> int:
        return len(_TOKEN.findall(text))

    def stream(
        self,
        prompt: str,
        *,
        max_tokens: int,
        stop: Sequence[str] = (),
        schema: JsonSchema | None = None,
    ) -> Iterator[str]:
        self.prompts.append(prompt)
        self.schemas.append(schema)
        reply = self.replies.pop(0) if self.replies else None
        if reply is None:
            reply = _default_reply(prompt, schema is not None)

        def tokens() -> Iterator[str]:
            for token in _TOKEN.findall(reply)[:max_tokens]:
                if self.delay_s:
                    time.sleep(self.delay_s)
                yield token

        return cut_at_stops(tokens(), stop)


class KeepingGenerator(ScriptedGenerator):
    """A scripted generator that can keep prompt beginnings, and records each it is given."""

    def __init__(self, replies: Sequence[str | None] = (), *, context_tokens: int = 2048) -> None:
        super().__init__(replies, context_tokens=context_tokens)
        self.kept: list[str] = []

    def keep_prefix(self, prefix: str) -> None:
        self.kept.append(prefix)


def _default_reply(prompt: str, as_json: bool) -> str:
    lines = [m for m in (_MEMORY_LINE.match(line) for line in prompt.split("\n")) if m]
    if not lines:
        if as_json:
            return json.dumps({"status": "not_in_memories", "answer": "", "memory_ids": []})
        return "I don't know."
    question = set(_WORD.findall(prompt.rsplit(_USER, 1)[-1].casefold()))
    best = max(lines, key=lambda m: len(question & set(_WORD.findall(m.group(2).casefold()))))
    if not as_json:
        return best.group(0)
    return json.dumps(
        {"status": "answered", "answer": best.group(2), "memory_ids": [int(best.group(1))]},
        ensure_ascii=False,
    )
