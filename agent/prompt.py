"""Build the prompt for a grounded answer: memories, recent conversation and the question,
fitted to the model's context window with room left for the answer.

Layout, chosen so a follow-up question over the same memories reuses the runtime's cached
prefix: one system message (instructions, then the memories, most informative first, each
labelled with its id and date), then the windowed conversation, then the question.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from models.generator import ChatMessage, Generator
from storage import Memory

# Wording and layout chosen by scripts/prompt_trial.py (planted facts) and on LoCoMo's first
# conversation (docs/BENCHMARKS.md): telling small models to answer "exactly: I don't know"
# made Qwen2.5-0.5B refuse answerable questions, and a reminder after the question doubled
# SmolLM2-135M's correct answers. With the id and date opening each memory line, Qwen2.5-0.5B
# answered LoCoMo questions by copying a line or writing a bare "[3]"; with the date written
# out, the id closing the line and a few words asked for before the citation, it answers more
# often (a bare id is still common; agent/chat.py then answers with that memory). "A short
# sentence" answered every planted fact but scored lower on LoCoMo (longer answers), and an
# example answer leaked into replies. Unsupported answers are caught after generation
# instead (agent/citations.py).
INSTRUCTIONS = (
    "You are papertape, the user's personal memory. Answer the user's question using the "
    "memories below. Each memory starts with its date and ends with its id in square "
    "brackets. Answer in a few words, then cite the memory you used by its id, like [3]. If "
    "no memory answers the question, say you don't know."
)
REMINDER = "Answer in a few words, then cite the id."
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


def memory_line(memory: Memory) -> str:
    return render_line(memory.id, memory.occurred_at, memory.text)


def render_line(memory_id: int, occurred_at: float, text: str) -> str:
    """One memory as the model sees it: "(7 May 2023) text [12]". The day, not the minute, and
    written as people write it, since small models copy it into answers."""
    return f"({written_day(occurred_at)}) {' '.join(text.split())} [{memory_id}]"


def written_day(occurred_at: float) -> str:
    """The local day as people write it: "7 May 2023"."""
    when = datetime.fromtimestamp(occurred_at).astimezone()
    return f"{when.day} {when:%B %Y}"


def _messages(lines: Sequence[str], turns: Sequence[Turn], question: str) -> list[ChatMessage]:
    system = INSTRUCTIONS + "\n\nMemories:\n" + ("\n".join(lines) if lines else NO_MEMORIES)
    messages = [ChatMessage("system", system)]
    for turn in turns:
        messages += [ChatMessage("user", turn.question), ChatMessage("assistant", turn.answer)]
    return messages + [ChatMessage("user", f"{question}\n{REMINDER}")]


def fit_prompt(
    generator: Generator,
    question: str,
    memories: Sequence[Memory],
    history: Sequence[Turn],
    *,
    answer_tokens: int,
    history_share: float = 0.25,
) -> FittedPrompt:
    """The largest prompt that leaves `answer_tokens` free in the model's context.

    History gets at most `history_share` of the budget, newest turns first; memories fill the
    rest in the order given, a memory too long for what is left is skipped for shorter ones.
    """
    budget = generator.context_tokens - answer_tokens
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

    base = count(generator.format_chat(_messages([], turns, question)))
    lines: list[str] = []
    chosen: list[Memory] = []
    total = base
    for memory in memories:
        line = memory_line(memory)
        cost = count(line) + 1  # + the newline between lines
        if total + cost <= budget:
            lines.append(line)
            chosen.append(memory)
            total += cost
    # Tokens do not always add up across a join: measure the real prompt and trim if needed.
    while True:
        messages = _messages(lines, turns, question)
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
    return FittedPrompt(prompt, tuple(messages), tuple(chosen), tuple(turns), tokens)


def follow_up(
    generator: Generator, fitted: FittedPrompt, reply: str, request: str, *, answer_tokens: int
) -> FittedPrompt | None:
    """The same conversation with the model's reply and one more request from the user, or
    None when it would not leave `answer_tokens` free. It opens with the fitted prompt, so the
    runtime reuses what it has already read."""
    messages = (
        *fitted.messages,
        ChatMessage("assistant", reply),
        ChatMessage("user", request),
    )
    prompt = generator.format_chat(messages)
    tokens = generator.count_tokens(prompt)
    if tokens + answer_tokens > generator.context_tokens:
        return None
    return FittedPrompt(prompt, messages, fitted.memories, fitted.turns, tokens)
