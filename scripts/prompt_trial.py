"""Trial of prompt layouts for grounded answers on planted facts, one model at a time.

Each of 8 facts is asked about with 0, 1 and 3 other facts beside it in the prompt (24
answerable cases), plus 3 questions no memory answers. A case counts as answered when the
answer holds the fact's key word; "refused" counts replies that say they don't know.

    .venv/bin/python scripts/prompt_trial.py PATH_TO.gguf
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.prompt import INSTRUCTIONS, REMINDER, render_line  # noqa: E402
from models.generator import ChatMessage  # noqa: E402
from models.llama_generator import LlamaGenerator  # noqa: E402

FACTS = [
    ("My locker code at the gym is 4411.", "What is my locker code?", "4411"),
    ("Bought oat milk and bread at the corner shop.", "Where did I buy oat milk?", "corner"),
    ("Anna's birthday is on March 3rd; she likes orchids.", "When is Anna's birthday?", "march"),
    (
        "The plumber, Marek, is coming on Thursday at 9am to fix the boiler.",
        "When is the plumber coming?",
        "thursday",
    ),
    ("My passport expires in August 2031.", "When does my passport expire?", "2031"),
    (
        "Dr. Okafor said to take the antibiotics twice a day for ten days.",
        "How often should I take the antibiotics?",
        "twice",
    ),
    (
        "The wifi password at the cabin is bluefinch77.",
        "What is the cabin wifi password?",
        "bluefinch77",
    ),
    ("Parked the car on level 3, spot C14.", "Where did I park the car?", "c14"),
]
DAY_ONE = 1_795_176_000.0  # 2026-11-20, noon UTC: memories dated a day apart from here
DAY = 86_400.0
UNANSWERABLE = [
    "What is my dog called?",
    "What did I eat for lunch on Monday?",
    "What is my brother's phone number?",
]
STRICT = (
    "You are papertape, the user's personal memory. Answer the question using only the "
    "memories below. Each memory starts with its id in square brackets and its date. Cite the "
    "memories you used by their ids, like [3]. Answer in one or two sentences. If the "
    "memories do not say, answer exactly: I don't know."
)


def layouts(lines: list[str], question: str) -> dict[str, list[ChatMessage]]:
    memories = "\n\nMemories:\n" + "\n".join(lines)
    return {
        "strict instructions, memories in system": [
            ChatMessage("system", STRICT + memories),
            ChatMessage("user", question),
        ],
        "soft instructions, memories in system": [
            ChatMessage("system", INSTRUCTIONS + memories),
            ChatMessage("user", question),
        ],
        "soft instructions, memories in user turn": [
            ChatMessage("system", INSTRUCTIONS),
            ChatMessage("user", memories.strip() + "\n\nQuestion: " + question),
        ],
        "soft, memories in system, reminder after question (used)": [
            ChatMessage("system", INSTRUCTIONS + memories),
            ChatMessage("user", f"{question}\n{REMINDER}"),
        ],
    }


def main(path: str) -> None:
    generator = LlamaGenerator(Path(path), name=Path(path).stem, context_tokens=2048, threads=2)
    answered: dict[str, int] = {}
    refused: dict[str, int] = {}
    cases = 0
    for index, (fact, question, key) in enumerate(FACTS):
        others = [f for j, (f, _, _) in enumerate(FACTS) if j != index]
        for extra in (0, 1, 3):
            random.seed(index * 10 + extra)
            picked = [fact, *random.sample(others, extra)]
            lines = [render_line(10 + i, DAY_ONE + i * DAY, text) for i, text in enumerate(picked)]
            cases += 1
            for name, messages in layouts(lines, question).items():
                reply = "".join(generator.stream(generator.format_chat(messages), max_tokens=40))
                answered[name] = answered.get(name, 0) + (key in reply.lower())
    lines = [
        render_line(10 + i, DAY_ONE + i * DAY, fact) for i, (fact, _, _) in enumerate(FACTS[:3])
    ]
    for question in UNANSWERABLE:
        for name, messages in layouts(lines, question).items():
            reply = "".join(generator.stream(generator.format_chat(messages), max_tokens=40))
            refused[name] = refused.get(name, 0) + ("know" in reply.lower())
    print(f"model {Path(path).name}")
    for name in answered:
        print(
            f"  {name:<58} answered {answered[name]:>2}/{cases}  "
            f"refused {refused[name]}/{len(UNANSWERABLE)}"
        )


if __name__ == "__main__":
    main(sys.argv[1])
