"""Which memories an answer rests on: the ids the model cited, checked, else the memories
that hold the answer's own words.

Small local models often answer correctly without writing the ids they were asked for, and
sometimes write ids they were never shown, or the id of the line beside the one they used. A
cited id counts only if that memory was in the prompt; when none counts, the memories that
contain the answer's content words (those not already in the question) are cited instead.
Words count in any form ("improving" is held by "improve"). An answer with such words that no
memory holds is not supported by memory, and papertape says it does not know.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from agent.recall import STOPWORDS
from storage import Memory

CITATION = re.compile(r"\[\s*#?(\d+(?:\s*[,;]\s*#?\d+)*)\s*\]|#(\d+)\b")
_WORD = re.compile(r"\w+", re.UNICODE)
_DONT_KNOW = re.compile(
    r"\b(i\s+(do\s+not|don'?t|don’t)\s+know|not\s+sure|no\s+(information|memor(y|ies))|"
    r"(memories|they)\s+do(es)?\s*(not|n'?t|n’t)\s+(say|mention))\b",
    re.IGNORECASE,
)
_MIN_STEM = 4  # letters two forms of a word must share
# Words that hedge an answer without adding to it.
HEDGES = frozenset("likely unlikely probably possibly perhaps maybe definitely".split())
# Words an answer uses for its own phrasing or hedging, not for its content.
_FILLER = (
    STOPWORDS
    | HEDGES
    | frozenset(
        """yes no not also just very like said says according memory memories mentioned user
        your you're i'm am know don't""".split()
    )
)


def cited_ids(answer: str, shown: Sequence[Memory]) -> list[int]:
    """Ids the answer cites, in order of first mention, that were among the shown memories."""
    allowed = {m.id for m in shown}
    found: list[int] = []
    for match in CITATION.finditer(answer):
        for number in re.findall(r"\d+", match.group(1) or match.group(2)):
            if int(number) in allowed and int(number) not in found:
                found.append(int(number))
    return found


def citation_of(answer: str, memory_id: int) -> re.Match[str] | None:
    """The first citation in the answer that names this id ("[12]", "[3, 12]", "#12")."""
    for match in CITATION.finditer(answer):
        if str(memory_id) in re.findall(r"\d+", match.group(1) or match.group(2)):
            return match
    return None


# An "or" that offers options ("Monday or Tuesday?"); "Answer yes or no." offers none.
CHOICE = re.compile(r"\bor\b(?<!\byes or\b)", re.IGNORECASE)
# The auxiliary verbs a question is built on: "Did John ...?", "What game did ...?".
AUXILIARY = r"(?:is|are|was|were|am|do|does|did|would|will|can|could|might|has|have|had|should)\b"
# A question in yes/no form opens with an auxiliary verb; with a CHOICE, it is either/or.
YES_NO_FORM = re.compile(rf"\s*{AUXILIARY}", re.IGNORECASE)


def _content_list(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in _FILLER and len(w) > 1]


def content_words(text: str) -> set[str]:
    return set(_content_list(text))


def restates(word: str, words: set[str]) -> bool:
    """Whether `word` is one of `words`, or the same word in another form: the shorter whole,
    or all but its last letter, opening the longer ("wants" and "want", "studied" and "study";
    "in" is not "inside")."""
    if word in words:
        return True
    for other in words:
        short, long = sorted((word, other), key=len)
        shared = len(short) if long.startswith(short) else len(short) - 1
        if shared >= _MIN_STEM and long.startswith(short[:shared]):
            return True
    return False


def given_words(question: str) -> set[str]:
    """The question's content words that an answer only repeats. An either/or question's
    options are left out: "Tuesday" answers "Is the dentist on Monday or Tuesday?" and is
    not the question said back. The options are the words after its "or" and as many
    content words before it."""
    words = content_words(question)
    split = CHOICE.search(question) if YES_NO_FORM.match(question) else None
    if split is None:
        return words
    after = _content_list(question[split.end() :])
    before = _content_list(question[: split.start()])
    return words - set(after) - set(before[len(before) - len(after) :] if after else ())


def new_words(answer: str, question: str) -> set[str]:
    """The answer's content words that do not restate the question's in any form ("studied"
    says back "Did she study?"); ids left out."""
    given = given_words(question)
    return {w for w in content_words(CITATION.sub(" ", answer)) if not restates(w, given)}


def supporting(answer: str, question: str, shown: Sequence[Memory]) -> list[int]:
    """Memories holding the answer's new content words, in any form, most words first."""
    words = new_words(answer, question)
    scored = []
    for position, memory in enumerate(shown):
        held = content_words(memory.text)
        count = sum(restates(word, held) for word in words)
        if count:
            scored.append((-count, position, memory.id))
    return [memory_id for _, _, memory_id in sorted(scored)]


def says_dont_know(answer: str) -> bool:
    return bool(_DONT_KNOW.search(answer))


def has_content(answer: str, question: str) -> bool:
    """Whether the answer says anything beyond the question's words and filler."""
    return bool(new_words(answer, question))


# A line that is only a label ("Melanie:", "Education:"), or an aside in round brackets ("(20
# July 2023)", "(191)"): what a small model writes in place of an answer.
_LABELS_AND_ASIDES = re.compile(r"\([^()]*\)|^[^\S\n]*[A-Z][\w' -]*:[^\S\n]*$", re.MULTILINE)


def says_in_words(answer: str, question: str) -> bool:
    """Whether the answer says yes, no or something beyond the question's words, leaving out
    labels and bracketed asides."""
    return is_yes_or_no(answer) or has_content(_LABELS_AND_ASIDES.sub(" ", answer), question)


# "When ...?", and the same question asked for a unit of time: "Which week did Tim visit the
# UK?", "What year did John start surfing?", "In which month ...?".
_WHEN = re.compile(
    r"\s*(?:when|(?:in |on |during )?(?:which|what) (?:week|weekend|month|year|day|date))\b",
    re.IGNORECASE,
)
_DATE = re.compile(
    r"\b(?:(?:1[89]|20)\d\d|jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|"
    r"july?|aug(?:ust)?|sep(?:t|tember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|"
    r"(?:mon|tues|wednes|thurs|fri|satur|sun)day|today|tonight|yesterday|tomorrow|ago)\b",
    re.IGNORECASE,
)


def asks_when(question: str) -> bool:
    return bool(_WHEN.match(question))


# A question that asks for a judgement about someone ("Would John be considered a patriotic
# person?", "What might his degree be in?"), not for what was said. "Could you tell me ..."
# and "Where would I have put it?" ask for a fact, so would and could count only before
# someone other than "I", "you" or "we".
_JUDGEMENT = re.compile(
    r"\b(?:might|likely|probably|possibly|potentially|presumably|"
    r"(?:would|could)(?!\s+(?:i|you|we)\b))\b",
    re.IGNORECASE,
)


# A question asking which well-known thing the memories describe ("Which popular time
# management technique does Tim use?", "What is a prominent charity John might join?"): the
# memories tell of it without its public name, which is the model's judgement to give.
# Only as what is asked for, right after "which"/"what": "What advice did he get from the
# famous players?" asks what was said.
_WELL_KNOWN = re.compile(
    r"^(?:which|what)(?:\s+(?:is|are|was|were|a|an|the|some|one))*\s+"
    r"(?:popular|famous|well-known|prominent|renowned)\b",
    re.IGNORECASE,
)


def asks_judgement(question: str) -> bool:
    """Whether the question asks for the model's judgement, which no memory states: about
    someone ("Would John enjoy ...?"), or the public name of something the memories only
    describe ("Which popular technique ...?")."""
    judged = _JUDGEMENT.search(question) or _WELL_KNOWN.match(question)
    return bool(judged) and not asks_when(question)


def holding_question(question: str, shown: Sequence[Memory]) -> Memory | None:
    """The shown memory holding the most of a question's content words (in any form), if it
    holds at least two thirds of them, the first shown on a tie: for "When did Gina mention
    Shia Labeouf?", the line where she did. The opening that asks when does not count."""
    opening = _WHEN.match(question)
    asked = content_words(question[opening.end() :] if opening else question)
    best, most = None, 0
    for memory in shown:
        held = content_words(memory.text)
        count = sum(restates(word, held) for word in asked)
        if count > most:
            best, most = memory, count
    return best if asked and most * 3 >= len(asked) * 2 else None


def has_date(answer: str, question: str = "") -> bool:
    """Whether the answer says when: a month, a year, a weekday or a relative day (ids in
    brackets do not count, nor does a date the question already holds: "When did John hurt
    his ankle in 2023?" is not answered by "in 2023")."""
    asked = {m.group().lower() for m in _DATE.finditer(question)}
    said = {m.group().lower() for m in _DATE.finditer(CITATION.sub(" ", answer))}
    return bool(said - asked)


# A date word with what leads into it and the day or year beside it: "on Friday", "since
# March", "on 10 July", "in June 2021", "a while ago".
_WHEN_PHRASE = re.compile(
    r"(?:\b(?:\w+\s+){1,2}(?=ago\b))?"
    r"(?:\b(?:on|in|at|by|since|until|from|last|next|this|every|early|late|mid)\s+)?"
    r"(?:\d{1,2}(?:st|nd|rd|th)?\s+)?(?:" + _DATE.pattern + r")"
    r"(?:\s+\d{1,2}(?:st|nd|rd|th)?\b)?(?:,?\s+(?:1[89]|20)\d\d\b)?",
    re.IGNORECASE,
)


_VERB_MAY = re.compile(r"(?:(?:on|at|this|every)\s+)?may", re.IGNORECASE)


def when_words(text: str) -> str:
    """The words a text says when with ("I won the tournament on Friday!": "on Friday"),
    "" when it has none. "May" counts as the month only beside a number or after a word that
    leads into a date ("last May"), not as the verb ("this may work")."""
    phrases = [
        m.group()
        for m in _WHEN_PHRASE.finditer(CITATION.sub(" ", text))
        if not _VERB_MAY.fullmatch(m.group())
    ]
    return ", ".join(phrases)


def is_yes_or_no(answer: str) -> bool:
    words = _WORD.findall(answer.lower())
    return bool(words) and words[0] in ("yes", "no")
