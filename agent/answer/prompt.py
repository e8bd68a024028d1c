"""Build the prompt for a grounded answer: memories, recent conversation and the question,
fitted to the model's context window with room left for the answer.

Layout, chosen so a follow-up question over the same memories reuses the runtime's cached
prefix: one system message (instructions, then the memories, each labelled with its id and
day), then the windowed conversation, then the question. The most relevant memories fill the
budget; they are shown in the order they happened, facts first, so a conversation's turns
read as they were said, a reply after what it answers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from agent.lines import render_line
from models.generator import ChatMessage, Generator
from storage import Memory, TimeWords

# The model answers in JSON under a schema (agent/answer/schema.py), so the instructions say
# what each field means rather than how to format text. The answer is a sentence: asked for
# "a few words", the 1.5B often gave back the question's own words ("camping" for what was
# done while camping); judged blind, a sentence was right more often (docs/BENCHMARKS.md).
# Each memory is one line opening with its id, the id being what the schema lets it cite,
# then the day it happened with its weekday, so the model can work out "last Saturday"
# itself, and then the text as stored, which names the speaker where there was one
# ("Caroline: ...").
INSTRUCTIONS = (
    "You are papertape, the user's personal memory. Answer the user's question from the "
    "memories below. Each memory is one line: its id in square brackets, the day it happened, "
    "then what was written or said, starting with who said it when it was said by someone. "
    'Reply in JSON. "answer": a short sentence in the language of the question that gives '
    "the specific details the memories hold (what, who, where), not the question's own words; "
    "when the question asks when, give the date, worked out from the memory's day when it "
    'says "yesterday" or "last week". "memory_ids": the ids of the memories the answer '
    'rests on. "status": "answered" when the memories state the answer, "guess" when '
    'they only suggest it, "not_in_memories" when they do not hold it (for example, when '
    "they tell it of someone else than the question asks about)."
)
NO_MEMORIES = "(no memories match this question)"


@dataclass(frozen=True)
class Turn:
    question: str
    answer: str


@dataclass(frozen=True)
class FittedPrompt:
    prompt: str
    messages: tuple[ChatMessage, ...]  # what `prompt` renders
    memories: tuple[Memory, ...]  # the memories the model was shown, in prompt order
    turns: tuple[Turn, ...]  # the conversation the model was shown, oldest first
    tokens: int


def memory_line(memory: Memory, time: TimeWords | None = None) -> str:
    return render_line(memory.id, memory.occurred_at, memory.text, time)


def _shown_order(memory: Memory) -> tuple[bool, float, int]:
    return (memory.kind != "fact", memory.occurred_at, memory.id)


def answer_messages(
    lines: Sequence[str], turns: Sequence[Turn], question: str
) -> list[ChatMessage]:
    system = INSTRUCTIONS + "\n\nMemories:\n" + ("\n".join(lines) if lines else NO_MEMORIES)
    messages = [ChatMessage("system", system)]
    for turn in turns:
        messages += [ChatMessage("user", turn.question), ChatMessage("assistant", turn.answer)]
    return [*messages, ChatMessage("user", question)]


def instructions_prompt(generator: Generator) -> str:
    """The prompt with no memories, conversation or question: what every answer prompt
    shares with it is the instructions, which the model can keep read."""
    return generator.format_chat(answer_messages([], (), ""))


def fit_prompt(
    generator: Generator,
    question: str,
    memories: Sequence[Memory],
    history: Sequence[Turn],
    *,
    answer_tokens: int,
    prompt_tokens: int | None = None,
    history_share: float = 0.25,
    times: Mapping[int, TimeWords] | None = None,
) -> FittedPrompt:
    """The largest prompt of at most `prompt_tokens` that leaves `answer_tokens` free in the
    model's context.

    History gets at most `history_share` of the budget, newest turns first; memories fill the
    rest in the order given, a memory too long for what is left is skipped for shorter ones,
    and are then shown facts first, each kind in the order it happened. A memory with time
    words in `times` shows the period they name after its text.
    """
    budget = generator.context_tokens - answer_tokens
    if prompt_tokens is not None:
        budget = min(budget, prompt_tokens)
    if budget <= 0:
        raise ValueError(f"answer_tokens {answer_tokens} leaves no room in the context window")
    count = generator.count_tokens

    turns: list[Turn] = []
    history_budget = int(budget * history_share)
    used = 0
    for turn in reversed(history):
        cost = count(turn.question) + count(turn.answer) + 8  # + the template's role markers
        if used + cost > history_budget:
            break
        turns.insert(0, turn)
        used += cost

    base = count(generator.format_chat(answer_messages([], turns, question)))
    lines: list[str] = []
    chosen: list[Memory] = []
    total = base
    for memory in memories:
        line = memory_line(memory, (times or {}).get(memory.id))
        cost = count(line) + 1  # + the newline between lines
        if total + cost <= budget:
            lines.append(line)
            chosen.append(memory)
            total += cost
    # Tokens do not always add up across a join: measure the real prompt and trim if needed,
    # the least relevant first.
    while True:
        shown = sorted(range(len(chosen)), key=lambda i: _shown_order(chosen[i]))
        messages = answer_messages([lines[i] for i in shown], turns, question)
        prompt = generator.format_chat(messages)
        tokens = count(prompt)
        if tokens <= budget or not lines:
            break
        lines.pop()
        chosen.pop()
    if tokens > budget:
        raise ValueError(
            f"the question and instructions alone take {tokens} tokens, more than the "
            f"{budget} the context leaves"
        )
    in_order = tuple(chosen[i] for i in shown)
    return FittedPrompt(prompt, tuple(messages), in_order, tuple(turns), tokens)
