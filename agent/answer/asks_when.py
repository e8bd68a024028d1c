"""Whether a question asks when: the model reads the question alone and says "date" or
"other" under a schema.

A when-question is answered from a few lines the model picks (agent/answer/select.py):
with two dozen lines in front of it, the small model gives the day a line was said for the
day its "last week" names. Telling a when-question by its words would take a word list for
every language, so the model tells it. Asked bare, the 1.5B called most questions of every
kind a date; with the worked examples below (several languages, either kind) and the short
labels, it told 40 of 42 LoCoMo when-questions and called 4 of 156 others so, each of the 4
asking when or how long, or naming a date (docs/BENCHMARKS.md). The examples are read
once: the model keeps their cache (`keep_prefix`) while the answer prompts come between.
"""

from __future__ import annotations

import json
from typing import Any

from models.generator import (
    ChatMessage,
    Generator,
    generate,
    json_reply,
    keep_shared_beginning,
)

INSTRUCTIONS = (
    "Classify the user's question. date: it asks when something happened or how long ago. "
    "other: it asks anything else (what, who, where, why, how many)."
)
# Made up for this prompt: personal notes in a few languages, either kind.
EXAMPLES = (
    ("What did Ana cook for her sister's birthday?", "other"),
    ("When did Ana start her new job at the bakery?", "date"),
    ("Wer hat Jonas das Buch geschenkt?", "other"),
    ("How long ago did Jonas move to Lisbon?", "date"),
    ("Why did Ana stop running in the mornings?", "other"),
    ("Which year did Jonas learn to sail?", "date"),
    ("Wann war Anas Zahnarzttermin?", "date"),
    ("Where did Jonas spend his holiday?", "other"),
    ("我什么时候去的北京？", "date"),
    ("How many cats does Ana have?", "other"),
)
KINDS = ("other", "date")
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"kind": {"enum": list(KINDS)}},
    "required": ["kind"],
    "additionalProperties": False,
}
KIND_TOKENS = 16


def kind_prompt(generator: Generator, question: str) -> str:
    messages = [ChatMessage("system", INSTRUCTIONS)]
    for example, kind in EXAMPLES:
        messages += [
            ChatMessage("user", example),
            ChatMessage("assistant", json.dumps({"kind": kind})),
        ]
    return generator.format_chat([*messages, ChatMessage("user", question)])


def asks_when(generator: Generator, question: str) -> bool:
    """Whether the model reads `question` as asking when something happened (False when its
    reply cannot be read)."""
    prompt = kind_prompt(generator, question)
    keep_shared_beginning(generator, prompt, kind_prompt(generator, ""))
    raw = generate(generator, prompt, max_tokens=KIND_TOKENS, schema=SCHEMA)
    return json_reply(raw).get("kind") == "date"
