"""Answers that lead with what is new: the question's words are not said back.

Small models answer "What activity do Andrew and Buddy enjoy?" with "Andrew and Buddy enjoy
walking. [562]": the answer is one word, the rest restates the question. The prompt asks for
a few words and the model does not keep to it, so papertape drops the restated opening
itself: "Walking. [562]". Citations in the dropped part move to the end, nothing else is
lost (the model's own words are kept on the Answer).

Left whole: yes/no answers, answers to either/or questions (the restated name may be the
answer), and an opening that restates only one of the question's words, which is usually
just the subject ("Gina found a space ..."), where dropping it would leave a bare verb.
"""

from __future__ import annotations

import re

from agent.citations import CITATION, is_yes_or_no
from agent.recall import STOPWORDS

_WORD = r"[\w']+"
_PIECE = re.compile(CITATION.pattern + rf"|(?P<word>{_WORD})", re.UNICODE)
_CHOICE = re.compile(r"\bor\b", re.IGNORECASE)
_MIN_RESTATED = 2  # question words an opening must repeat before it is dropped
_MIN_STEM = 4  # "wants" restates "want", "decided" restates "decide"; "in" is not "inside"


def _restates(word: str, question_words: set[str]) -> bool:
    if word in question_words:
        return True
    for asked in question_words:
        short, long = sorted((word, asked), key=len)
        if len(short) >= _MIN_STEM and long.startswith(short):
            return True
    return False


def lead_with_answer(answer: str, question: str) -> str:
    """The answer without its opening restatement of the question, or the answer as it was."""
    if is_yes_or_no(answer) or _CHOICE.search(question):
        return answer
    asked = {w.lower() for w in re.findall(_WORD, question)}
    asked |= {w.removesuffix("'s") for w in asked}
    moved: list[str] = []
    restated = 0
    cut = 0
    for piece in _PIECE.finditer(answer):
        word = piece.group("word")
        if word is None:
            moved.append(piece.group())  # a citation inside the opening
            cut = piece.end()
            continue
        word = word.lower().removesuffix("'s")
        if word in STOPWORDS:  # glue a restatement needs ("... is X"), asked or not
            cut = piece.end()
        elif _restates(word, asked):
            restated += 1
            cut = piece.end()
        else:
            break
    else:
        return answer  # nothing but the question's words: keep them
    rest = answer[cut:].lstrip(" ,:;-–—")
    if restated < _MIN_RESTATED or not rest:
        return answer
    lead = rest[0].upper() + rest[1:]
    return " ".join([lead, *moved])
