"""Grounded answers: recall, fit a prompt, stream the model's reply, cite, remember the turn.

A ChatSession is one conversation. `papertape ask` is a session of one question; the TUI
keeps one open. Each turn:

1. recall the memories for the question (this conversation's own turns are left out: the
   model sees them as history), and keep those that plausibly bear on it;
2. with none, say "I don't know" without asking the model, which would only invent;
3. otherwise fit memories and history into the context window (agent/prompt.py) and stream;
4. cite what the answer rests on (agent/citations.py); an answer whose content no memory
   holds, or that puts one person's words in another's mouth (agent/speakers.py), is
   replaced by "I don't know", the model's words kept for the record, except that a
   question asking for a judgement ("Would John enjoy ...?", "Which popular technique ...?")
   gets the model's answer marked as a guess, since no memory states one and it is what was
   asked; one that opens or ends by restating the question keeps only its answer, one that
   loops says each thing once (a citation the token budget cut off is dropped first), and a
   yes/no question said back is answered "Yes." or "No." (agent/concise.py);
   a reply that only points at a memory by its id is followed by asking the model once more
   for the answer in words, and that second reply is judged instead; a "when" question the
   model did not answer gets the date of the memory holding what it asks about;
5. store the exchange as a `chat` memory linked to the memories it cited.

The store is written only after the reply is complete: a reply cut off by Ctrl-C leaves it as
it was, apart from the recall's strengthening, which is committed on its own.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace

from agent.citations import (
    asks_judgement,
    asks_when,
    citation_of,
    cited_ids,
    has_content,
    has_date,
    holding_question,
    is_yes_or_no,
    says_dont_know,
    says_in_words,
    supporting,
    when_words,
)
from agent.concise import concise_answer, without_cut_citation, yes_or_no
from agent.errors import UserError
from agent.ingest import Ingestor
from agent.prompt import FittedPrompt, Turn, fit_prompt, follow_up, memory_line, written_day
from agent.recall import RecallHit, query_terms, recall
from agent.relative_dates import pinned_dates
from agent.settings import Settings
from agent.speakers import named_speaker, speaker_of
from models.embedder import Embedder
from models.generator import Generator, generate
from storage import Memory, MemoryStore

DONT_KNOW = "I don't know: nothing in your memories answers that."
# Asked when the model answers with a memory's id alone: the 0.5B model does that for about
# one LoCoMo question in eight, and the memory's whole line, papertape's answer before,
# rarely says what was asked (docs/BENCHMARKS.md, session 11).
ASK_FOR_WORDS = "Answer my question in words, not an id."

OnToken = Callable[[str], None]


@dataclass(frozen=True)
class Answer:
    question: str
    text: str
    citations: tuple[int, ...]
    memories: tuple[Memory, ...]  # what the model was shown, most informative first
    model: str
    grounded: bool  # False when papertape or the model said it does not know, or guessed
    guess: bool  # the model's judgement that no memory states: shown as one, never stored
    model_text: str | None  # the model's own words, when papertape replaced them
    prompt: str
    prompt_tokens: int
    answer_tokens: int
    retrieval_s: float
    ttft_s: float | None  # from the question to the first token, retrieval included
    tokens_per_s: float | None
    memory_id: int | None  # the stored chat turn


def bears_on(hit: RecallHit, terms: list[str], settings: Settings) -> bool:
    """Whether a recalled memory plausibly bears on a question with these query terms.

    Recall always returns its best k, relevant or not; this keeps a memory that is close in
    meaning or that holds at least half of the question's words.
    """
    if hit.similarity is not None and hit.similarity >= settings.answer_min_similarity:
        return True
    if not terms:
        return False
    text = hit.memory.text.lower()
    return sum(term in text for term in terms) * 2 >= len(terms)


def _misattributed(question: str, citations: list[int], shown: dict[int, Memory]) -> bool:
    """Whether the question names one speaker and none of the cited lines is theirs.

    A "when" question is left alone: it asks for a date, and the other person's reply in the
    same conversation ("Congrats on the degree!") carries the same date.
    """
    person = None if asks_when(question) else named_speaker(question, shown.values())
    if person is None:
        return False
    return not any(speaker_of(shown[i]) == person for i in citations if i in shown)


def _points_only(text: str, question: str, cited: list[int]) -> bool:
    """Whether the reply (its yes/no already read) only points at memories by id ("[186]",
    "Nate's favourite book series is [371]."), without the answer in words."""
    return bool(cited) and not has_content(text, question) and not is_yes_or_no(text)


def _wants_words(text: str, question: str, memories: tuple[Memory, ...]) -> bool:
    """Whether to ask the model again for the answer in words: its reply only points. Not for
    a "when" question, which the day of the memory pointed at answers."""
    if asks_when(question) or says_dont_know(text):
        return False
    return _points_only(yes_or_no(text, question), question, cited_ids(text, memories))


def _day_of(memory: Memory) -> str:
    """When what a memory tells of happened: the date pinned in its text when it holds one
    ("I went to the beach last month [December 2022]"), else the day it was said."""
    pinned = pinned_dates(memory.text)
    return pinned[0] if len(pinned) == 1 else written_day(memory.occurred_at)


def _when_told(memory: Memory) -> str:
    """A "when" question's answer from the memory it asks about, cited: the date pinned in it;
    when it says when in words no date was pinned for, those words and the day they were said
    ("The plumber comes on Thursday at nine": "on Thursday, said on 2 March 2026", where the
    day alone would mislead); its whole line when it pins several; else the day it was said
    ("I may go" says no date: "may" the verb is not the month)."""
    pinned = pinned_dates(memory.text)
    if len(pinned) > 1:
        return memory_line(memory)
    words = "" if pinned else when_words(memory.text)
    if words:
        return f"{words}, said on {written_day(memory.occurred_at)} [{memory.id}]"
    return f"{_day_of(memory)} [{memory.id}]"


def _dated(text: str, memory: Memory) -> str:
    """The answer with the cited memory's day written before its id: "on [436]" becomes
    "on 3 September 2022 [436]"."""
    day = _day_of(memory)
    at = citation_of(text, memory.id)
    return f"{text[: at.start()]}{day} {text[at.start() :]}" if at else f"{text} ({day})"


@dataclass(frozen=True)
class _Verdict:
    """What papertape makes of the model's reply."""

    text: str
    citations: list[int]
    grounded: bool
    model_text: str | None  # the model's own words, when papertape replaced them
    guess: bool = False


def _judge(text: str, question: str, memories: tuple[Memory, ...]) -> _Verdict:
    """Cite the reply, refuse it when no memory holds it or it puts one person's words in
    another's mouth, date it or shorten it where the model pointed instead of answering."""
    if not text or says_dont_know(text):
        return _Verdict(text, [], False, None)
    original, text = text, yes_or_no(text, question)
    cited = cited_ids(text, memories)
    holding = supporting(text, question, memories)
    # An id whose memory holds none of the answer's words, where other memories hold them,
    # points at the wrong line (small models misnumber): the answer rests on those others.
    # Not for a "when" answer, whose date the prompt shows beside the line, not in it.
    held = [i for i in cited if i in holding] if holding and not asks_when(question) else cited
    citations = held or holding
    shown = {m.id: m for m in memories}
    # Content no memory holds, or no content at all (the question echoed back); or the
    # question asks about one person and the answer rests on what someone else said: the
    # other speaker's story, misattributed (agent/speakers.py). Without ids (or only ids of
    # lines without its words), the memory that holds most of its words is what it rests on.
    unsupported = not citations and (has_content(text, question) or not is_yes_or_no(text))
    if unsupported or _misattributed(question, held or holding[:1], shown):
        if asks_judgement(question) and says_in_words(text, question):
            # A judgement is what was asked, and no memory states one: the model's, marked,
            # if it says something (not only "Melanie:\n(20 October 2023)").
            text = concise_answer(text, question)
            return _Verdict(text, citations, False, None if text == original else original, True)
        return _Verdict(DONT_KNOW, [], False, original)
    if _points_only(text, question, cited):
        # Only ids ("[12]"): small models point at the memory instead of answering, so the
        # answer is what the memories they pointed at say, dated as the model saw them; asked
        # when, it is when the first one says it happened.
        if asks_when(question):
            text = _when_told(shown[cited[0]])
        else:
            text = " ".join(memory_line(shown[i]) for i in cited[:2])
    elif cited and asks_when(question) and not has_date(text, question):
        # Asked when, the model pointed at a memory instead of saying its date.
        text = _dated(text, shown[cited[0]])
    # Said once, leading with the answer, a restated yes/no question as "Yes." or "No."
    # (agent/concise.py).
    text = concise_answer(text, question)
    return _Verdict(text, citations, True, None if text == original else original)


def _dated_by_question(question: str, memories: tuple[Memory, ...], reply: str) -> _Verdict | None:
    """For a "when" question the model did not answer: the day of the memory that holds what
    the question asks about, cited. Small models often echo such a question or say they do
    not know while the line it asks the date of is in front of them; None when no shown
    memory holds two thirds of the question's words."""
    if not asks_when(question):
        return None
    memory = holding_question(question, memories)
    if memory is None:
        return None
    return _Verdict(_when_told(memory), [memory.id], True, reply)


class ChatSession:
    def __init__(
        self,
        store: MemoryStore,
        embedder: Embedder,
        generator: Generator,
        settings: Settings,
        *,
        session: str | None = None,
        remember: bool = True,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.generator = generator
        self.settings = settings
        self.source = f"chat:{session or uuid.uuid4().hex[:12]}"
        self.remember = remember
        self.history: list[Turn] = []
        self._ingestor = Ingestor(store, embedder, settings)
        self._last_cited: tuple[int, ...] = ()

    def ask(self, question: str, *, now: float, on_token: OnToken | None = None) -> Answer:
        question = " ".join(question.split())
        if not question:
            raise UserError("the question is empty: ask something.")
        started = time.perf_counter()
        hits = recall(
            self.store,
            self.embedder,
            question,
            settings=self.settings,
            now=now,
            strengthen=self.remember,
        )
        terms = query_terms(question)
        relevant = self._newest(
            [
                h.memory
                for h in hits
                if h.memory.source != self.source and bears_on(h, terms, self.settings)
            ]
        )
        # What the person stored outranks past conversations, which hold model answers.
        evidence = [m for m in relevant if m.kind != "chat"] + [
            m for m in relevant if m.kind == "chat"
        ]
        if evidence:
            # What the last answer rested on stays in view for a follow-up ("and when?").
            known = {m.id for m in evidence}
            carried = self.store.get_many([i for i in self._last_cited if i not in known])
            evidence += [carried[i] for i in self._last_cited if i in carried]
        retrieval_s = time.perf_counter() - started

        if not evidence:
            if on_token:
                on_token(DONT_KNOW)
            unknown = Answer(
                question=question,
                text=DONT_KNOW,
                citations=(),
                memories=(),
                model=self.generator.name,
                grounded=False,
                guess=False,
                model_text=None,
                prompt="",
                prompt_tokens=0,
                answer_tokens=0,
                retrieval_s=retrieval_s,
                ttft_s=None,
                tokens_per_s=None,
                memory_id=None,
            )
            return self._remember(unknown, now)

        fitted = fit_prompt(
            self.generator,
            question,
            evidence,
            self.history,
            answer_tokens=self.settings.answer_tokens,
        )
        pieces: list[str] = []
        first: float | None = None
        for piece in self.generator.stream(fitted.prompt, max_tokens=self.settings.answer_tokens):
            if first is None and piece.strip():
                first = time.perf_counter()
            pieces.append(piece)
            if on_token:
                on_token(piece)
        ended = time.perf_counter()
        text = without_cut_citation("".join(pieces).strip())
        produced = self.generator.count_tokens(text) if text else 0
        speed = (
            (produced - 1) / (ended - first) if first and produced > 1 and ended > first else None
        )
        reply = text
        if _wants_words(text, question, fitted.memories):
            asked = self._ask_for_words(fitted, text)
            if asked is not None:
                fitted, words = asked
                produced += self.generator.count_tokens(words) if words else 0
                if words and not _wants_words(words, question, fitted.memories):
                    reply = words
        verdict = _judge(reply, question, fitted.memories)
        if not verdict.grounded:
            verdict = _dated_by_question(question, fitted.memories, reply) or verdict
        if reply is not text:  # both of the model's replies are kept for the record
            verdict = replace(verdict, model_text=f"{text}\n{reply}")
        answer = Answer(
            question=question,
            text=verdict.text,
            citations=tuple(verdict.citations),
            memories=fitted.memories,
            model=self.generator.name,
            grounded=verdict.grounded,
            guess=verdict.guess,
            model_text=verdict.model_text,
            prompt=fitted.prompt,
            prompt_tokens=fitted.tokens,
            answer_tokens=produced,
            retrieval_s=retrieval_s,
            ttft_s=None if first is None else first - started,
            tokens_per_s=speed,
            memory_id=None,
        )
        return self._remember(answer, now)

    def _ask_for_words(self, fitted: FittedPrompt, reply: str) -> tuple[FittedPrompt, str] | None:
        """The model's second reply, asked to say in words what the memory it pointed at
        answers, with the prompt that asked it; None when the context has no room left."""
        again = follow_up(
            self.generator,
            fitted,
            reply,
            ASK_FOR_WORDS,
            answer_tokens=self.settings.answer_tokens,
        )
        if again is None:
            return None
        words = generate(self.generator, again.prompt, max_tokens=self.settings.answer_tokens)
        return again, without_cut_citation(words.strip())

    def _newest(self, memories: list[Memory]) -> list[Memory]:
        """Each memory replaced by the newest one that supersedes it (a moved appointment),
        so the model is shown the current fact, not the history."""
        chosen: dict[int, Memory] = {}
        for memory in memories:
            current = memory
            seen = {current.id}
            while True:
                newer = [
                    link.from_id
                    for link in self.store.links_to(current.id)
                    if link.relation == "supersedes" and link.from_id not in seen
                ]
                found = self.store.get_many(newer)
                if not found:
                    break
                current = max(found.values(), key=lambda m: (m.occurred_at, m.id))
                seen.add(current.id)
            chosen.setdefault(current.id, current)
        return list(chosen.values())

    def _remember(self, answer: Answer, now: float) -> Answer:
        self.history.append(Turn(answer.question, answer.text))
        self._last_cited = answer.citations
        if not self.remember:
            return answer
        # An answer papertape could not ground is not kept: stored, it would be recalled as
        # evidence the next time and teach the model that the answer is unknown.
        turn = f"Q: {answer.question}" + (f"\nA: {answer.text}" if answer.grounded else "")
        result = self._ingestor.note(turn, now=now, source=self.source, kind="chat")
        if result.status == "stored" and result.memory_id is not None:
            with self.store.transaction():
                for cited in answer.citations:
                    self.store.link(result.memory_id, cited, "derived_from")
        return replace(answer, memory_id=result.memory_id)
