"""The lines to answer a when-question from: the model first picks, from all the memories
shown, the few that hold what the question asks, then answers with only those in front of it.

With two dozen similar lines the small model often gives the day a line was said for the day
its "last week" names. From a few lines it more often gives the line's own time words, which
papertape shows with the period they name (agent/answer/dates.py). Picking reads the prompt
the answer call would have read, under a schema that lets it write only the ids shown. For
other questions the pick lost evidence the answer needed, so only a question the model reads
as asking when (agent/answer/asks_when.py) is answered this way; measured in
docs/BENCHMARKS.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from models.generator import Generator, generate, ids_array, json_reply

# Enough for a list gathered from a few sessions; the answer may cite up to CITATIONS_MAX.
SELECT_MAX = 6
SELECT_TOKENS = 64


def select_schema(shown_ids: Sequence[int]) -> dict[str, Any]:
    """A reply naming between one and SELECT_MAX of `shown_ids`."""
    return {
        "type": "object",
        "properties": {"memory_ids": ids_array(shown_ids, max_items=SELECT_MAX, min_items=1)},
        "required": ["memory_ids"],
        "additionalProperties": False,
    }


def select_lines(generator: Generator, prompt: str, shown_ids: Sequence[int]) -> tuple[int, ...]:
    """The ids, among `shown_ids`, of the memories the model picks for the question that
    `prompt` (the answer prompt, its memories and question) asks; () when it picks none or
    its reply cannot be read."""
    raw = generate(generator, prompt, max_tokens=SELECT_TOKENS, schema=select_schema(shown_ids))
    shown = set(shown_ids)
    picked = json_reply(raw).get("memory_ids", [])
    if not isinstance(picked, list):
        return ()
    return tuple(dict.fromkeys(i for i in picked if isinstance(i, int) and i in shown))
