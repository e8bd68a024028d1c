"""The text of a stored exchange with papertape: the question, the answer and the model's
status in one `chat` memory. Read back as history by agent/answer/history.py, and by
forgetting (agent/memory/forgetting.py), which weighs what a turn says, not its frame."""

from __future__ import annotations

_QUESTION, _ANSWER = "Q: ", "\nA: "


def turn_text(question: str, answer: str, status: str) -> str:
    return f"{_QUESTION}{question}{_ANSWER}{answer}\n({status})"


def split_turn(text: str) -> tuple[str, str] | None:
    """The question and answer of a stored turn; None when the text is not one (edited, or
    cut to a gist by ageing)."""
    if not text.startswith(_QUESTION) or _ANSWER not in text:
        return None
    question, rest = text[len(_QUESTION) :].split(_ANSWER, 1)
    answer, _, status = rest.rpartition("\n")
    if not (status.startswith("(") and status.endswith(")")):
        answer = rest
    return (question, answer) if question and answer else None
