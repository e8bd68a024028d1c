"""Answers that lead with what is new: the question's words are not said back, nor the
answer's own.

Small models answer "What activity do Andrew and Buddy enjoy?" with "Andrew and Buddy enjoy
walking. [562]": the answer is one word, the rest restates the question. The prompt asks for
a few words and the model does not keep to it, so papertape drops the restated opening
itself: "Walking. [562]". Citations in the dropped part move to the end, nothing else is
lost (the model's own words are kept on the Answer).

Left whole: yes/no answers, answers to either/or questions (the restated name may be the
answer), and an opening that restates only one of the question's words, which is usually
just the subject ("Gina found a space ..."), where dropping it would leave a bare verb.

A yes/no question ("Would John be considered a patriotic person?") answered by saying it
back, with or without a "not", is answered "Yes." or "No.": the restatement adds nothing,
and without the word yes or no papertape would take it for the question echoed back.

Greedy decoding also loops: "John has been to Barcelona, Barcelona, Barcelona, Barcel" until
the answer's token budget runs out. Each item (or line) said again is dropped, and so is a
last item cut off inside a word already said: "John has been to Barcelona". A citation cut
off at the very end ("Gina: [20") is dropped before anything else reads the reply.
"""

from __future__ import annotations

import re

from agent.citations import CHOICE, CITATION, HEDGES, YES_NO_FORM, is_yes_or_no, restates
from agent.recall import STOPWORDS

_WORD = r"[\w']+"
_PIECE = re.compile(CITATION.pattern + rf"|(?P<word>{_WORD})", re.UNICODE)
_NEGATION = re.compile(r"\b(?:not|never|no|nor)\b|n[’']t\b", re.IGNORECASE)
_MIN_RESTATED = 2  # question words an opening must repeat before it is dropped
# An item ends at , ; ! ? or a full stop after a word, not after an initial ("R. R. Martin")
# or a list number ("1. Toys"), and at the end of a line.
_ITEM_END = re.compile(r"((?<=[,;!?])\s+|(?<=[^\W\d]{2}\.)\s+|\s*\n\s*)")
# A citation the answer's token budget cut off at the end of a reply ("Gina: [20").
_CUT_CITATION = re.compile(r"\s*\[\s*#?[\d,;\s]*$")


def concise_answer(answer: str, question: str) -> str:
    """The answer said once and leading with what is new."""
    return lead_with_answer(without_repeats(yes_or_no(answer, question)), question)


def without_cut_citation(reply: str) -> str:
    """The reply without a citation cut off at its end: "[20" is no id, and its digits would
    pass for words of an answer."""
    return _CUT_CITATION.sub("", reply)


def yes_or_no(answer: str, question: str) -> str:
    """For a yes/no question answered by saying it back: "Yes." or "No.", with the answer's
    citations. Any other answer as it was."""
    if not YES_NO_FORM.match(question) or CHOICE.search(question):
        return answer
    body = CITATION.sub(" ", answer)
    words = [w.lower().removesuffix("'s") for w in re.findall(_WORD, body)]
    said = words[0] if words and words[0] in ("yes", "no") else None
    rest = words[1:] if said else words
    asked = _asked_words(question)
    restated = 0
    for word in rest:
        if word in STOPWORDS or word in HEDGES or _NEGATION.search(word):
            continue
        if not restates(word, asked):
            return answer  # something new: the answer says more than yes or no
        restated += 1
    negated = _NEGATION.search(" ".join(rest)) is not None
    if said is None:
        if restated < _MIN_RESTATED:
            return answer
        said = "no" if negated else "yes"
    elif negated != (said == "no"):
        return answer  # "Yes, he would not ...": which is it?
    cited = dict.fromkeys(c.group() for c in CITATION.finditer(answer))
    return " ".join([f"{said.capitalize()}.", *cited])


def _asked_words(question: str) -> set[str]:
    """The question's words, lower-cased, each also without a possessive 's."""
    asked = {w.lower() for w in re.findall(_WORD, question)}
    return asked | {w.removesuffix("'s") for w in asked}


def lead_with_answer(answer: str, question: str) -> str:
    """The answer without its opening restatement of the question, or the answer as it was."""
    if is_yes_or_no(answer) or CHOICE.search(question):
        return answer
    asked = _asked_words(question)
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
        elif restates(word, asked):
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
    return " ".join([lead, *(c for c in dict.fromkeys(moved) if c not in lead)])


def without_repeats(answer: str) -> str:
    """The answer with each item (a stretch ending in , ; . ! or ?) said only once.

    An item repeats when its words, leaving out a list number or a leading "and", end one
    already said ("Barcelona" after "been to Barcelona,"); a last item that stops inside a
    word already said was cut off mid-repeat. Citations of dropped items move to the end.
    """
    pieces = _ITEM_END.split(answer.strip())  # item, the space after it, item, ...
    said: set[str] = set()
    kept: list[str] = []
    moved: list[str] = []
    dropped = False
    for position in range(0, len(pieces), 2):
        item = pieces[position]
        words = [w.lower() for w in re.findall(_WORD, CITATION.sub(" ", item))]
        while words and (words[0].isdigit() or words[0] in ("and", "or")):
            words = words[1:]
        key = " ".join(words)
        last = position == len(pieces) - 1
        if words and (key in said or (last and _stops_inside(key, said))):
            moved += [c.group() for c in CITATION.finditer(item)]
            dropped = True
            continue
        kept += [item, pieces[position + 1] if not last else ""]
        said |= {" ".join(words[start:]) for start in range(len(words))}
    if not dropped:
        return answer
    text = "".join(kept).rstrip(",; \n")
    ended = text.endswith((".", "!", "?"))
    text = " ".join([text, *(c for c in dict.fromkeys(moved) if c not in text)])
    closing = answer.strip()[-1]  # the answer's full stop, kept when its last item went
    return text + closing if closing in ".!?" and not ended else text


def _stops_inside(key: str, said: set[str]) -> bool:
    """Whether `key` is the start of something said, ending inside one of its words."""
    return any(s.startswith(key) and s[len(key) : len(key) + 1].isalnum() for s in said)
