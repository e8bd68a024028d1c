"""Answers that lead with what is new: the question's words are not said back, nor the
answer's own.

Small models answer "What activity do Andrew and Buddy enjoy?" with "Andrew and Buddy enjoy
walking. [562]": the answer is one word, the rest restates the question. The prompt asks for
a few words and the model does not keep to it, so papertape drops the restated opening
itself: "Walking. [562]". Citations in the dropped part move to the end, nothing else is
lost (the model's own words are kept on the Answer).

The same goes for a restatement the answer ends with: "Gaming content for YouTube on 9
November, 2022." asked "What is Nate creating for YouTube on 9 November, 2022?" is "Gaming
content.", and "Cooking is therapy for John when away from the court." is "Cooking.".

Left whole: yes/no answers, answers to either/or questions (the restated name may be the
answer), an opening or ending that restates only one of the question's words, which is
usually just the subject ("Gina found a space ...") or a detail, where dropping it would
leave a bare verb, and an ending with a "not" in it, which would turn the answer round.

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

from agent.citations import (
    AUXILIARY,
    CHOICE,
    CITATION,
    HEDGES,
    YES_NO_FORM,
    is_yes_or_no,
    restates,
)
from agent.recall import STOPWORDS

_WORD = r"[\w']+"
_PIECE = re.compile(CITATION.pattern + rf"|(?P<word>{_WORD})", re.UNICODE)
_NEGATION = re.compile(r"\b(?:not|never|no|nor)\b|n[’']t\b", re.IGNORECASE)
_MIN_RESTATED = 2  # question words an opening must repeat before it is dropped
# An item ends at , ; ! ? or a full stop after a word, not after an initial ("R. R. Martin")
# or a list number ("1. Toys"), and at the end of a line.
_ITEM_END = re.compile(r"((?<=[,;!?])\s+|(?<=[^\W\d]{2}\.)\s+|\s*\n\s*)")
# Words that open the phrase or clause an answer's restated ending starts with.
_OPENERS = frozenset(
    """for on in at with to from during when while before after by about since because which
    that who where as into is are was were""".split()
)
# "What game did ...", "Which popular technique does ...": the words before the verb.
_ASKED_KIND = re.compile(
    rf"\s*(?:what|which)\s+((?:(?!{AUXILIARY})[\w'-]+\s+){{1,5}}?){AUXILIARY}",
    re.IGNORECASE,
)
_KIND_WORDS = frozenset({"kind", "kinds", "type", "types", "sort", "sorts"})
# A citation the answer's token budget cut off at the end of a reply ("Gina: [20").
_CUT_CITATION = re.compile(r"\s*\[\s*#?[\d,;\s]*$")


def concise_answer(answer: str, question: str) -> str:
    """The answer said once, leading with what is new and not ending by saying the question
    back."""
    said_once = without_repeats(yes_or_no(answer, question))
    return without_restated_ending(lead_with_answer(said_once, question), question)


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


def without_restated_ending(answer: str, question: str) -> str:
    """The answer without its closing restatement of the question, or the answer as it was.

    The ending must start right after the answer's own words, with a word that opens a
    phrase or clause ("for YouTube on 9 November", "which he read in Ireland"): cutting
    anywhere else leaves a verb without its object ("friends motivate"). The kind of thing
    asked for ("What game ...?") is the answer's own word: "Team shooter game".
    """
    if is_yes_or_no(answer) or CHOICE.search(question):
        return answer
    asked = _asked_words(question)
    kind = _asked_kind(question)
    moved: list[str] = []  # citations inside the ending, last first
    restated = 0
    after: re.Match[str] | None = None  # the word after the one being read
    for piece in reversed(list(_PIECE.finditer(answer))):
        word = piece.group("word")
        if word is None:
            moved.append(piece.group())
            continue
        if _NEGATION.search(word):
            return answer  # "Melanie did not go to the race": the ending is the answer
        word = word.lower().removesuffix("'s")
        if _names_kind(word, kind) or not (word in STOPWORDS or restates(word, asked)):
            break  # the answer's own word
        restated += word not in STOPWORDS and word not in _OPENERS
        after = piece
    else:
        return answer  # nothing but the question's words: keep them
    if after is None or after.group().lower() not in _OPENERS or restated < _MIN_RESTATED:
        return answer
    kept = answer[: after.start()].rstrip(" ,;:-–—\n")
    closing = "." if CITATION.sub("", answer).rstrip().endswith((".", "!", "?")) else ""
    cited = [c for c in dict.fromkeys(reversed(moved)) if c not in kept]
    return " ".join([kept.rstrip(".") + closing, *cited])


def _asked_kind(question: str) -> set[str]:
    """The words naming what a "what" or "which" question asks for: "game" in "What game did
    Nate play?", "frosting" in "What kind of frosting ...?"; none in "What is ...?"."""
    named = _ASKED_KIND.match(question)
    if named is None:
        return set()
    # Lower-case only: "Which of Joanna's plays ..." asks for a play, not for Joanna.
    words = {w for w in re.findall(_WORD, named.group(1)) if w.islower()}
    return words - STOPWORDS - _KIND_WORDS


def _names_kind(word: str, kind: set[str]) -> bool:
    """Whether the word is one of the kind's words, singular or plural ("techniques" for
    "technique"; not "achieved" for "achievement")."""
    forms = {word, word.removesuffix("s"), word.removesuffix("es")}
    return any(forms & {k, k.removesuffix("s"), k.removesuffix("es")} for k in kind)


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
