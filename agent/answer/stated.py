"""Is it stated? The model reads whether the memories an answer cites say what it says.

The support check's word test (agent/answer/check.py) finds an answer's words in what it
cites; where they are not there, the answer is a paraphrase, a translation, a "Yes" or a
value written another way, or it is made up. Embedding closeness cannot tell those apart: a
question naming what a memory is about ("What is Aunt Rosa's cat called?") lies close to that
memory ("Aunt Rosa lives at 12 Elm Road") whatever the answer says. Whether a text states a
claim is language work, so the model reads it, in a short call after the answer has streamed:
shown the question, the answer and the memories as the answer prompt showed them (each with
its day and who said it), it replies "yes" or "no" under a schema.

Asked where the word test fails (`support_reading` "unshared") or for every answered reply
("every"); a runtime that cannot be held to the schema is not asked, and closeness decides.
Off by default: on a held-out set of 40 notes with an answer they support and one they do
not, the 1.5B read 35 of the 40 unsupported answers as stated (the same for a reading that
first quotes the words). What it does well is read across languages, where the English
embedder cannot: "unshared" let all 5 right answers given in another language than their
notes pass, against none by closeness (docs/BENCHMARKS.md, "Is it stated?").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from models.generator import ChatMessage, Generator, generate, json_reply, keep_shared_beginning

INSTRUCTIONS = (
    "You check an answer against the memories it cites. The user gives a question, an answer "
    "and the memories, each with its day and who said it. Reply in JSON: "
    '"stated": "yes" when the memories state what the answer says, in any words or language '
    "(a yes or no answer: when they say it is so, or is not so); "
    '"no" when the answer gives a name, number, time, place or claim the memories do not give, '
    "gives to one person or thing what the memories give to another, or contradicts them."
)
# {"stated": "yes"} is 17 characters; room for the spaces the grammar lets in and for a
# vocabulary that spells it a character a token. A real model ends it in about 6.
STATED_TOKENS = 64


def stated_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"stated": {"enum": ["yes", "no"]}},
        "required": ["stated"],
        "additionalProperties": False,
    }


def stated_prompt(generator: Generator, question: str, answer: str, lines: Sequence[str]) -> str:
    user = f"Question: {question}\nAnswer: {answer}\nMemories:\n" + "\n".join(lines)
    return generator.format_chat([ChatMessage("system", INSTRUCTIONS), ChatMessage("user", user)])


def read_stated(
    generator: Generator, question: str, answer: str, lines: Sequence[str]
) -> bool | None:
    """Whether the model reads `lines` (as the answer prompt showed them) as stating the
    answer; None when the runtime cannot be held to the schema or the reply cannot be read."""
    if not generator.constrains_output or not lines:
        return None
    prompt = stated_prompt(generator, question, answer, lines)
    # The instructions are the same for every answer; between answers, other prompts are read.
    keep_shared_beginning(generator, prompt, stated_prompt(generator, "", "", []))
    raw = generate(generator, prompt, max_tokens=STATED_TOKENS, schema=stated_schema())
    stated = json_reply(raw).get("stated")
    return None if stated not in ("yes", "no") else stated == "yes"
