"""The Generator protocol: a local language model that turns a chat into streamed text.

A backend renders a chat with the model's own template (`format_chat`), counts tokens with the
model's own tokenizer (`count_tokens`), and streams the continuation of a prompt (`stream`).
The caller works on the rendered prompt, so it can fit it to the context window exactly and a
benchmark can hand the very same prompt to the raw runtime.

A backend that can constrain decoding to a JSON schema (`constrains_output`) takes `schema`
in `stream`: every token it emits keeps the text a valid prefix of a document of that schema,
so a small model cannot write malformed output or values the schema does not allow. A backend
that cannot raises UnconstrainedError when given one; the caller decides what to do instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class ChatMessage:
    role: Role
    content: str


JsonSchema = Mapping[str, Any]


@runtime_checkable
class Generator(Protocol):
    name: str
    context_tokens: int  # the context window this instance was loaded with
    constrains_output: bool  # whether `stream` honours a JSON schema

    def format_chat(self, messages: Sequence[ChatMessage]) -> str:
        """The prompt text for `messages`, ending where the assistant's reply begins."""
        ...

    def count_tokens(self, text: str) -> int:
        """How many tokens `text` is to this model (special tokens in it included)."""
        ...

    def stream(
        self,
        prompt: str,
        *,
        max_tokens: int,
        stop: Sequence[str] = (),
        schema: JsonSchema | None = None,
    ) -> Iterator[str]:
        """The reply to `prompt` as text pieces (at most one per generated token), ending
        before any stop string; with `schema`, held to it while decoding."""
        ...


class Wrapped:
    """A generator passed on as given, less any ability the protocol does not name (keeping
    prompt beginnings): a benchmark's baseline, or the base of a wrapper that watches it."""

    def __init__(self, inner: Generator) -> None:
        self.inner = inner
        self.name = inner.name
        self.context_tokens = inner.context_tokens
        self.constrains_output = inner.constrains_output

    def format_chat(self, messages: Sequence[ChatMessage]) -> str:
        return self.inner.format_chat(messages)

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def stream(
        self,
        prompt: str,
        *,
        max_tokens: int,
        stop: Sequence[str] = (),
        schema: JsonSchema | None = None,
    ) -> Iterator[str]:
        return self.inner.stream(prompt, max_tokens=max_tokens, stop=stop, schema=schema)


@runtime_checkable
class PrefixKeeper(Protocol):
    """A backend that can keep the cache of a prompt beginning that many prompts share while
    other prompts come between them (llama.cpp holds only the last prompt's)."""

    def keep_prefix(self, prefix: str) -> None: ...


@runtime_checkable
class Scorer(Protocol):
    """A backend that can say how likely its model finds a given continuation of a prompt."""

    def logprobs(self, prompt: str, continuation: str) -> list[float]:
        """The natural-log probability of each of the continuation's tokens after `prompt`."""
        ...


def keep_shared_beginning(generator: Generator, prompt: str, other: str) -> None:
    """Have `generator`, where it can, keep the beginning `prompt` and `other` share (two
    renderings of one prompt for different questions), so it is not read again for each."""
    if isinstance(generator, PrefixKeeper) and prompt != other:
        pairs = enumerate(zip(prompt, other, strict=False))
        shared = next((i for i, (a, b) in pairs if a != b), min(len(prompt), len(other)))
        if shared:
            generator.keep_prefix(prompt[:shared])


def generate(
    generator: Generator,
    prompt: str,
    *,
    max_tokens: int,
    stop: Sequence[str] = (),
    schema: JsonSchema | None = None,
) -> str:
    return "".join(generator.stream(prompt, max_tokens=max_tokens, stop=stop, schema=schema))


def ids_array(ids: Sequence[int], *, max_items: int, min_items: int = 0) -> dict[str, Any]:
    """The JSON schema of a list of at most `max_items` of `ids` (at least `min_items`):
    under it a model can cite only what it was shown, and cannot go on listing."""
    array: dict[str, Any] = {"type": "array", "items": {"enum": list(dict.fromkeys(ids))}}
    if min_items:
        array["minItems"] = min_items
    return {**array, "maxItems": max_items}


def json_reply(raw: str) -> dict[str, Any]:
    """A reply decoded under a JSON object schema, as a dict; {} when it is not one (cut off,
    or from a backend that wrote plain text). llama.cpp's grammar lets control characters
    into strings, so they are accepted."""
    try:
        data = json.loads(raw, strict=False)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def cut_at_stops(pieces: Iterable[str], stop: Sequence[str]) -> Iterator[str]:
    """Pass text pieces through, ending before the first stop string.

    Text that could be the start of a stop string is held back until it is known not to be,
    so a stop string split across pieces never leaks out.
    """
    stops = [s for s in stop if s]
    if not stops:
        yield from pieces
        return
    longest = max(len(s) for s in stops)
    pending = ""
    for piece in pieces:
        pending += piece
        hits = [i for i in (pending.find(s) for s in stops) if i >= 0]
        if hits:
            if min(hits):
                yield pending[: min(hits)]
            return
        # Keep back the longest tail that is a prefix of some stop string.
        keep = 0
        for size in range(1, min(longest, len(pending)) + 1):
            tail = pending[-size:]
            if any(s.startswith(tail) for s in stops):
                keep = size
        if len(pending) > keep:
            yield pending[: len(pending) - keep]
            pending = pending[len(pending) - keep :]
    if pending:
        yield pending


def plain_chat(messages: Sequence[ChatMessage]) -> str:
    """A neutral ChatML rendering for models whose files carry no chat template."""
    body = "".join(f"<|im_start|>{m.role}\n{m.content}<|im_end|>\n" for m in messages)
    return body + "<|im_start|>assistant\n"


PLAIN_CHAT_STOPS = ("<|im_end|>", "<|im_start|>")
