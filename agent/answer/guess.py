"""The search guess: before recall, the model writes a line that could answer the question,
and recall searches for the question and that line together.

A question and the line that answers it share few words ("What activities does Melanie
do?" / "Melanie: I took the kids camping and then we went to a pottery class"), and a small
embedder places a question far from its answer. A made-up answer line is written like the
lines stored, so it shares their words and lies near them (the idea of HyDE, Gao et al.
2022). Its details are invented and only searched for, never shown as an answer: where
they are wrong they mostly match nothing, and the question's own words still count.

Measured on LoCoMo (scripts/bench/guess.py, docs/BENCHMARKS.md): the share of a question's
evidence lines in the prompt rose from 0.64 to 0.70, and from 0.56 to 0.62 on held-out
questions, multi-hop questions most; yet the answers, judged blind, were right no more
often (0.450 against 0.458 of 120), and the first word came about 3 s later. So the
`search_guess` setting is off by default.

The model writes in the question's language, under a schema that bounds the line. A
runtime that cannot be held to a schema is not asked: its plain-text reply may open with
anything, and the question alone is searched as before.
"""

from __future__ import annotations

from typing import Any

from models.generator import ChatMessage, Generator, generate, json_reply

GUESS_MAX_CHARS = 160
# Room for the whole line even at a token a byte (4 a character in UTF-8); the schema ends
# a real model's reply long before.
GUESS_TOKENS = GUESS_MAX_CHARS + 16

INSTRUCTIONS = (
    "The user asks a question about their own memories: notes and chat lines they stored. "
    "Before the memories are searched, write what a line that answers it might say. "
    'Reply in JSON: "line": one short line, as the person or someone they talk with might '
    "have written it, that would answer the question (make up the details: it is only used "
    "to search). Write in the question's language."
)


def guess_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"line": {"type": "string", "maxLength": GUESS_MAX_CHARS}},
        "required": ["line"],
        "additionalProperties": False,
    }


def read_guess(raw: str) -> str:
    """The line of the model's reply, on one line; "" for a reply that holds none."""
    line = json_reply(raw).get("line")
    return " ".join(line.split()) if isinstance(line, str) else ""


def search_guess(generator: Generator, question: str) -> str:
    """A made-up line that would answer `question`, to search with; "" when the runtime
    cannot be held to the schema or the context has no room for it."""
    if not generator.constrains_output:
        return ""
    prompt = generator.format_chat(
        [ChatMessage("system", INSTRUCTIONS), ChatMessage("user", question)]
    )
    if generator.context_tokens - generator.count_tokens(prompt) < GUESS_TOKENS:
        return ""
    return read_guess(generate(generator, prompt, max_tokens=GUESS_TOKENS, schema=guess_schema()))
