"""The model's answer as structured data: the schema it decodes under, and reading it back.

The runtime holds the model to `answer_schema` while it decodes, so a reply is a JSON object
with the answer in words, the ids of the memories it rests on (an enum of the ids shown, so a
citation cannot be invented, cut off or misnumbered) and a status. Lengths are bounded in the
schema, so a greedy loop ends at the bound instead of running on.

`AnswerStream` picks the answer field's text out of the reply while it is decoded, so the
person sees the answer as it is written and never the JSON around it. `read_reply` reads the
whole reply; for a backend that could not be constrained it reads plain text as the answer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from models.generator import ids_array

Status = Literal["answered", "not_in_memories", "guess"]
STATUSES: tuple[Status, ...] = ("answered", "not_in_memories", "guess")

# Enough for a name, a date, a short list or a sentence; a reply at the bound was looping.
ANSWER_MAX_CHARS = 300
CITATIONS_MAX = 5


def answer_schema(shown_ids: Sequence[int]) -> dict[str, Any]:
    """The JSON schema of a reply that may cite only `shown_ids`."""
    return {
        "type": "object",
        "properties": {
            "answer": {"type": "string", "maxLength": ANSWER_MAX_CHARS},
            "memory_ids": ids_array(shown_ids, max_items=CITATIONS_MAX),
            "status": {"enum": list(STATUSES)},
        },
        "required": ["answer", "memory_ids", "status"],
        "additionalProperties": False,
    }


def reply_start(answer: str) -> str:
    """The reply's beginning under the answer schema, as far as the answer's closing quote:
    what the benchmarks score (scripts/bench/swap.py, scripts/bench/support.py), so the
    citations and status the model chose after it do not count."""
    return '{"answer": ' + json.dumps(answer, ensure_ascii=False)


@dataclass(frozen=True)
class Reply:
    answer: str
    memory_ids: tuple[int, ...]
    status: Status
    constrained: bool  # decoded under the schema; False: plain text read as the answer
    complete: bool  # the whole object was read; False when the reply was cut off


_ANSWER_KEY = re.compile(r'"answer"\s*:\s*"')
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


class AnswerStream:
    """Feed the reply's pieces as they come; get back the answer field's new text each time.

    JSON escapes are decoded once they are whole (a piece may end inside one), and nothing
    is returned after the answer's closing quote.
    """

    def __init__(self) -> None:
        self._raw = ""
        self._at: int | None = None  # where the answer's characters start, once seen
        self.done = False

    def feed(self, piece: str) -> str:
        self._raw += piece
        if self.done:
            return ""
        if self._at is None:
            found = _ANSWER_KEY.search(self._raw)
            if found is None:
                return ""
            self._at = found.end()
        out: list[str] = []
        raw, i = self._raw, self._at
        while i < len(raw):
            char = raw[i]
            if char == '"':
                self.done = True
                i += 1
                break
            if char != "\\":
                out.append(char)
                i += 1
                continue
            decoded, used = _escape(raw, i)
            if used == 0:
                break  # the rest of the escape is still to come
            out.append(decoded)
            i += used
        self._at = i
        return "".join(out)

    @property
    def raw(self) -> str:
        return self._raw


def _escape(raw: str, i: int) -> tuple[str, int]:
    """The character the escape at raw[i] stands for and its length; (_, 0) if incomplete."""
    if i + 1 >= len(raw):
        return "", 0
    kind = raw[i + 1]
    if kind != "u":
        return _ESCAPES.get(kind, kind), 2
    if i + 6 > len(raw):
        return "", 0
    try:
        code = int(raw[i + 2 : i + 6], 16)
        if 0xD800 <= code < 0xDC00:  # a surrogate pair: wait for its second half
            if i + 12 > len(raw):
                return "", 0
            low = int(raw[i + 8 : i + 12], 16)
            return chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)), 12
        return chr(code), 6
    except ValueError:  # not hex: only an unconstrained reply can hold it; keep it as written
        return raw[i : i + 2], 2


_CITATION = re.compile(r"\[(\d+)\]")


def read_reply(raw: str, shown_ids: Iterable[int], *, constrained: bool) -> Reply:
    """The reply as data. Ids not shown are dropped (a constrained reply has none).

    A constrained reply cut off before its end (the token bound) keeps what was decoded of
    its answer, and is marked incomplete. An unconstrained reply is plain text: the text, as
    written, is the answer, the shown ids written in it as "[12]" its citations, and its
    status a guess, since nothing held the model to say whether the memories state it.
    """
    shown = set(shown_ids)
    if not constrained:
        cited = [int(m) for m in _CITATION.findall(raw) if int(m) in shown]
        return Reply(raw.strip(), tuple(dict.fromkeys(cited)), "guess", False, True)
    try:
        # llama.cpp's JSON grammar lets control characters into strings; keep them.
        data = json.loads(raw, strict=False)
    except ValueError:
        stream = AnswerStream()
        partial = stream.feed(raw)
        return Reply(partial.strip(), (), "guess", True, False)
    ids = [i for i in data.get("memory_ids", []) if isinstance(i, int) and i in shown]
    status = data.get("status")
    return Reply(
        str(data.get("answer", "")).strip(),
        tuple(dict.fromkeys(ids)),
        status if status in STATUSES else "guess",
        True,
        True,
    )
