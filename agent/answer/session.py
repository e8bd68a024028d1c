"""Grounded answers: recall -> prompt -> structured generation -> one check -> store.

A ChatSession is one conversation. `papertape ask` is a session of one question, or goes on
with a stored one (`--session NAME`, `--continue`: agent/answer/history.py); the TUI keeps
one open. Each turn:

1. with `search_guess` on, the model writes a made-up line that could answer the question,
   only to search with (agent/answer/guess.py); recall the memories for the question (and
   that line); the best of them each bring the memories that came right after them in
   their episode (a conversation's reply); the facts among them (agent/memory/facts.py) go
   first.
   Past exchanges with papertape are conversation history, not evidence: recall leaves them
   out unless `chat_as_evidence` is on, and then ranks them below what the person stored.
   This conversation's own turns are in the prompt as history;
2. fit the most relevant memories and the recent turns into the prompt budget, the memories
   shown in the order they happened (agent/answer/prompt.py); a question the model reads as
   asking when (agent/answer/asks_when.py) is then answered from the few of them it picks
   (agent/answer/select.py);
3. generate under the answer schema (agent/answer/schema.py): the answer in words, the ids it rests
   on (only ids that were shown can be written) and a status; the answer field streams out as
   it is decoded. A backend that cannot constrain its output answers in plain text, marked;
4. check an "answered" reply against what it cites (agent/answer/check.py; with
   `support_reading` on, the model reads whether it is stated: agent/answer/stated.py),
   that what it cites is about the question, and, where the store knows who said its
   lines, that those it rests on are the asked person's (where someone else's lines name
   them, the model reads whose they are: agent/answer/whose.py), and that it names no known
   speaker whom neither the question nor its lines name.
   One that fails is shown as the model wrote it, marked as not supported by the memories.
   Relative words it repeats from a cited memory ("last week") are shown with the period
   they named there (agent/answer/dates.py);
5. store the exchange as a `chat` memory linked to the memories it cited, and, for an
   answer the check backed, count those (with the facts drawn from them) as recalled.

The answer shown is always the model's answer field: nothing here rewrites or replaces it.
The store is written only after the reply is complete, the memories it cites strengthened
then: a reply cut off by Ctrl-C leaves the store as it was.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from typing import Any

from agent.answer.asks_when import asks_when
from agent.answer.check import is_about, is_supported
from agent.answer.dates import AnswerDate, answer_dates
from agent.answer.guess import search_guess
from agent.answer.history import CHAT_KIND, chat_source, stored_conversation
from agent.answer.prompt import Turn, fit_prompt, instructions_prompt, memory_line
from agent.answer.recall import holds_its_words, met_again, recall
from agent.answer.schema import AnswerStream, Reply, Status, answer_schema, read_reply
from agent.answer.select import SELECT_MAX, select_lines
from agent.answer.whose import PersonCheck, check_person
from agent.errors import UserError
from agent.ingest.pipeline import Ingestor
from agent.limits import check_utf8
from agent.memory.facts import SOURCE_KINDS
from agent.memory.updates import newest_version, replaced_by
from agent.settings import Settings
from agent.turns import turn_text
from models.embedder import Embedder
from models.generator import Generator, keep_shared_beginning
from storage import Memory, MemoryStore, TimeWords

OnToken = Callable[[str], None]
UNSUPPORTED = "not supported by the memories"  # a stored turn's verdict when the check failed


@dataclass(frozen=True)
class Answer:
    question: str
    text: str  # the model's answer field, as it wrote it
    citations: tuple[int, ...]  # the ids it gave, all among those shown
    status: Status  # the model's own: answered, not_in_memories or guess
    supported: bool  # an answered reply that cites memories holding what it says
    constrained: bool  # decoded under the answer schema (False: a plain-text fallback)
    memories: tuple[Memory, ...]  # what the model was shown, in the order shown
    model: str
    raw_reply: str  # the model's whole reply, JSON and all
    prompt: str
    prompt_tokens: int
    answer_tokens: int
    retrieval_s: float
    ttft_s: float | None  # from the question to the first token, retrieval included
    tokens_per_s: float | None
    memory_id: int | None  # the stored chat turn
    # Relative words the answer repeats from a cited memory, with the period they named there
    dates: tuple[AnswerDate, ...] = ()
    # The person the question asks about, when the lines the answer rests on are not theirs
    # (neither said by them nor naming them, or naming them but read by the model as telling
    # it of `told_of`); the answer is then not supported.
    not_of: str | None = None
    told_of: str | None = None
    # The other known speaker the answer itself tells it of, not naming the one asked about;
    # `not_of` is then the one asked about, and the answer is not supported.
    said_of: str | None = None
    # A known speaker the answer names whom neither the question nor what it cites names;
    # the answer is then not supported.
    not_named: str | None = None
    # What the answer cites is not about what the question asks (agent/answer/check.py,
    # `is_about`); the answer is then not supported.
    off_question: bool = False
    # The made-up line recall searched for beside the question; never an answer
    guess: str = ""
    session: str = ""  # the conversation's name: `ask --session NAME` goes on with it
    # A when-question: the memories the model picked `memories` from, and that prompt's
    # size; () and 0 when it answered from everything recall gave (agent/answer/select.py)
    offered: tuple[int, ...] = ()
    offered_tokens: int = 0

    @property
    def trusted(self) -> bool:
        """Answered from the memories and supported by what it cites."""
        return self.status == "answered" and self.supported


def answer_from(
    generator: Generator,
    embedder: Embedder,
    settings: Settings,
    question: str,
    memories: list[Memory],
    history: list[Turn],
    *,
    on_token: OnToken | None = None,
    started: float | None = None,
    times: Mapping[int, TimeWords] | None = None,
    speakers: Mapping[int, str] | None = None,
    people: Sequence[str] = (),
) -> Answer:
    """The model's answer to `question` from `memories` (most relevant first), each shown
    with the period its time words name (`times`): prompt, structured generation, the
    support check, which knows who said the memories that were said (`speakers`) and
    everyone the store knows as a speaker (`people`). Stores nothing. `started` is when the
    question came, so the time to the first token includes retrieval."""
    started = time.perf_counter() if started is None else started
    retrieval_s = time.perf_counter() - started
    try:
        fitted = fit_prompt(
            generator,
            question,
            memories,
            history,
            answer_tokens=settings.answer_tokens,
            prompt_tokens=settings.prompt_tokens,
            times=times,
        )
    except ValueError as exc:
        raise UserError(
            f"{exc}: ask a shorter question, or raise prompt_tokens or use a model with a "
            "larger context."
        ) from None
    keep_shared_beginning(generator, fitted.prompt, instructions_prompt(generator))
    shown_ids = [m.id for m in fitted.memories]
    constrained = generator.constrains_output
    offered: tuple[int, ...] = ()
    offered_tokens = 0
    if (
        settings.pick_lines_for_when
        and constrained
        and len(shown_ids) > SELECT_MAX
        and asks_when(generator, question)
    ):
        picked = set(select_lines(generator, fitted.prompt, shown_ids))
        if picked:
            offered, offered_tokens = tuple(shown_ids), fitted.tokens
            fitted = fit_prompt(
                generator,
                question,
                [m for m in fitted.memories if m.id in picked],
                history,
                answer_tokens=settings.answer_tokens,
                prompt_tokens=settings.prompt_tokens,
                times=times,
            )
            shown_ids = [m.id for m in fitted.memories]
    first: float | None = None
    if not shown_ids:
        # Nothing to answer from: the model would only invent.
        reply = Reply("", (), "not_in_memories", constrained, True)
        raw, produced, ended = "", 0, time.perf_counter()
    else:
        schema = answer_schema(shown_ids) if constrained else None
        stream = AnswerStream()
        pieces: list[str] = []
        for piece in generator.stream(
            fitted.prompt, max_tokens=settings.answer_tokens, schema=schema
        ):
            if first is None and piece.strip():
                first = time.perf_counter()
            pieces.append(piece)
            shown = stream.feed(piece) if constrained else piece
            if on_token and shown:
                on_token(shown)
        ended = time.perf_counter()
        raw = "".join(pieces)
        reply = read_reply(raw, shown_ids, constrained=constrained)
        produced = generator.count_tokens(raw) if raw else 0
    speed = (produced - 1) / (ended - first) if first and produced > 1 and ended > first else None
    by_id = {m.id: m for m in fitted.memories}
    cited_memories = [by_id[i] for i in reply.memory_ids]
    cited = [memory_line(m, (times or {}).get(m.id)) for m in cited_memories]
    supported = reply.status == "answered" and is_supported(
        embedder,
        reply.answer,
        question,
        cited,
        min_similarity=settings.support_min_similarity,
        reader=generator,
        reading=settings.support_reading,
    )
    off_question = (
        reply.status == "answered"
        and bool(cited)
        and not is_about(embedder, question, cited, min_similarity=settings.question_min_similarity)
    )
    texts = {m.id: m.text for m in cited_memories}
    # Whose the lines are is asked of an answer they do not hold too: where they are another
    # person's, that is the reason to show, not only that they do not hold it.
    person_check = (
        check_person(generator, question, reply.answer, texts, cited, speakers or {}, people)
        if reply.status == "answered" and cited_memories
        else PersonCheck()
    )
    return Answer(
        question=question,
        text=reply.answer,
        citations=reply.memory_ids,
        status=reply.status,
        supported=supported and person_check.passed and not off_question,
        constrained=reply.constrained,
        memories=fitted.memories,
        model=generator.name,
        raw_reply=raw,
        prompt=fitted.prompt,
        prompt_tokens=fitted.tokens,
        answer_tokens=produced,
        retrieval_s=retrieval_s,
        ttft_s=None if first is None else first - started,
        tokens_per_s=speed,
        memory_id=None,
        dates=answer_dates(reply.answer, cited_memories, times or {}),
        not_of=person_check.not_of,
        told_of=person_check.told_of,
        said_of=person_check.said_of,
        not_named=person_check.not_named,
        off_question=off_question,
        offered=offered,
        offered_tokens=offered_tokens,
    )


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
        lock: AbstractContextManager[Any] | None = None,
    ) -> None:
        self.store = store
        # Held while the store is used, not while the model writes: a host whose threads
        # share the store's one connection (the terminal UI) takes the same lock around its
        # own calls, and is not kept waiting for an answer.
        self.lock = lock or nullcontext()
        self.embedder = embedder
        self.generator = generator
        self.settings = settings
        # A named conversation goes on from its stored turns; a new one gets a fresh name.
        self.name = session or uuid.uuid4().hex[:12]
        self._named = session is not None
        self.source = chat_source(self.name)
        self.remember = remember
        earlier = stored_conversation(store, self.name) if session else None
        self.history: list[Turn] = list(earlier.turns) if earlier else []
        self._ingestor = Ingestor(store, embedder, settings)
        self._last_cited: tuple[int, ...] = earlier.last_cited if earlier else ()

    def ask(self, question: str, *, now: float, on_token: OnToken | None = None) -> Answer:
        question = " ".join(question.split())
        if not question:
            raise UserError("the question is empty: ask something.")
        check_utf8(question, "the question")
        started = time.perf_counter()
        guess = self.guess(question)
        with self.lock:
            evidence = self.evidence(question, now, guess=guess)
            shown = [m.id for m in evidence]
            times, speakers = self.store.times_of(shown), self.store.speakers_of(shown)
            people = self.store.speaker_names()
        answer = answer_from(
            self.generator,
            self.embedder,
            self.settings,
            question,
            evidence,
            self.history,
            on_token=on_token,
            started=started,
            times=times,
            speakers=speakers,
            people=people,
        )
        # A conversation is named in the answer only when it is kept or was asked for by name.
        named = self.name if self.remember or self._named else ""
        with self.lock:
            return self._remember(replace(answer, guess=guess, session=named), now)

    def guess(self, question: str) -> str:
        """The model's made-up answer line to search with; "" with search_guess off."""
        return search_guess(self.generator, question) if self.settings.search_guess else ""

    def evidence(self, question: str, now: float, *, guess: str | None = None) -> list[Memory]:
        """What `ask` would show the model for `question`, before the prompt budget: the
        memories recalled for the question and the search guess (made here when not given),
        newest version of each (a note whose every fact was superseded left out), the best of
        them each followed by what came right after it, facts first (short, dated, naming
        who), then what the last answer cited (kept in view for a follow-up: "and when?")."""
        guess = self.guess(question) if guess is None else guess
        hits = recall(
            self.store,
            self.embedder,
            f"{question} {guess}".strip(),
            settings=self.settings,
            now=now,
            k=self.settings.ask_k,
            strengthen=False,  # what the answer cites is, once it is given (_remember)
        )
        evidence = self._newest([h.memory for h in hits if h.memory.source != self.source])
        evidence = [  # a note all of whose facts were updated is history (memory/updates.py)
            m
            for m in self._with_following(evidence)
            if m.kind not in SOURCE_KINDS or replaced_by(self.store, m) is None
        ]
        evidence.sort(key=lambda m: m.kind != "fact")  # stable: recall's order within each
        known = {m.id for m in evidence}
        carried = self.store.get_many([i for i in self._last_cited if i not in known])
        return evidence + [carried[i] for i in self._last_cited if i in carried]

    def _with_following(self, memories: list[Memory]) -> list[Memory]:
        """The best `context_hits` memories, each followed by the `context_after` memories that
        came after it in its episode (in a conversation, the reply to what matched, which
        often holds the answer), then the rest; each memory once. A memory cut to its gist is
        not brought: its words are gone."""
        best, after = self.settings.context_hits, self.settings.context_after
        if not best or not after:
            return memories
        gap = self.settings.episode_gap_minutes * 60.0
        chosen: dict[int, Memory] = {}
        for memory in memories[:best]:
            chosen.setdefault(memory.id, memory)
            if memory.kind in SOURCE_KINDS:
                for later in self.store.following(memory, after, gap):
                    if later.kind in SOURCE_KINDS and holds_its_words(later):
                        chosen.setdefault(later.id, later)
        for memory in memories[best:]:
            chosen.setdefault(memory.id, memory)
        return list(chosen.values())

    def _newest(self, memories: list[Memory]) -> list[Memory]:
        """Each memory replaced by the newest one that supersedes it (a moved appointment),
        so the model is shown the current fact, not the history."""
        newest = {m.id: newest_version(self.store, m.id) for m in memories}
        found = self.store.get_many([i for m, i in newest.items() if i != m])
        chosen: dict[int, Memory] = {}
        for memory in memories:
            current = found.get(newest[memory.id], memory)
            chosen.setdefault(current.id, current)
        return list(chosen.values())

    def _remember(self, answer: Answer, now: float) -> Answer:
        self.history.append(Turn(answer.question, answer.text))
        self._last_cited = answer.citations
        if not self.remember:
            return answer
        # Kept as conversation history (the timeline, follow-ups), with the model's status, or
        # the check's verdict where it failed; recall leaves chat turns out as evidence.
        verdict = (
            UNSUPPORTED if answer.status == "answered" and not answer.supported else answer.status
        )
        turn = turn_text(answer.question, answer.text, verdict)
        result = self._ingestor.note(turn, now=now, source=self.source, kind=CHAT_KIND)
        if result.status == "stored" and result.memory_id is not None:
            with self.store.transaction():
                for cited in answer.citations:
                    self.store.link(result.memory_id, cited, "derived_from")
        # What a supported answer rests on was met again; the rest of what was shown only
        # passed by (counted, small talk shown beside every answer would never fade), and a
        # citation the check did not back may be the wrong memory.
        if answer.status == "answered" and answer.supported:
            rested_on = self.store.get_many(list(answer.citations))
            met_again(self.store, list(rested_on.values()), now, self.settings.recall_growth)
        return replace(answer, memory_id=result.memory_id)
