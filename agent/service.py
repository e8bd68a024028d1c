"""Papertape: the services the CLI (and later the TUI and daemon) call, over one home."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from functools import cached_property
from pathlib import Path
from typing import Any

from agent.answer import recall as recall_module
from agent.answer.history import last_conversation
from agent.answer.recall import Mode, RecallHit
from agent.answer.session import ChatSession
from agent.errors import Failure, UserError
from agent.ingest.notes import IngestResult, NoteInput, clean_note, verbatim_hash
from agent.ingest.pipeline import Ingestor, Progress
from agent.keys import Unlocked, unlock
from agent.limits import check_note, check_utf8
from agent.llm import LoadedModel, given_model, open_model, plan_model
from agent.memory import forgetting, updates
from agent.memory.consolidation import Consolidator
from agent.memory.pages import read_page
from agent.memory.report import ConsolidationReport
from agent.memory.report import Progress as ConsolidationProgress
from agent.memory.summaries import ExtractiveSummarizer, ModelSummarizer, Summarizer
from agent.memory.times import TimeReader
from agent.memory.transfer import ImportReport, export_lines, import_lines
from agent.settings import RANGES, Settings
from agent.status import AppStatus
from device import DeviceInfo, probe
from models import Embedder, ModelError, embedder_dim, load_embedder
from models.embedder import embed_one
from models.errors import UnknownModelError
from models.generator import Generator
from models.ocr import OCRReader, load_reader
from models.transcriber import Transcriber, load_transcriber
from storage import (
    Blob,
    Link,
    Memory,
    MemoryStore,
    RamBudget,
    StorageError,
    StoreStats,
    TimeWords,
)
from storage.cipher import KeyNeededError, WrongKeyError

log = logging.getLogger(__name__)


MAX_RECALL_K = int(RANGES["recall_k"].high)  # as in config.toml: more is no list to read


def check_recall(query: str, k: int | None) -> None:
    if not query.strip():
        raise UserError("the query is empty: say what to recall.")
    check_utf8(query, "the query")
    if k is not None and not 1 <= k <= MAX_RECALL_K:
        raise UserError(f"-k must be from 1 to {MAX_RECALL_K}, not {k}.")


class Papertape:
    """Opens the store and the embedder on first use; close() releases them."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder | None = None,
        generator: Generator | None = None,
        unlocked: Unlocked | None = None,
    ) -> None:
        self.settings = settings
        self._embedder = embedder
        self._generator = generator
        if unlocked is not None:
            self.__dict__["unlocked"] = unlocked
        self._models: dict[str, LoadedModel] = {}
        # The store is one SQLite connection, which serves one thread at a time: a host that
        # calls from several threads (the terminal UI) holds this around each call; a chat
        # session holds it only while it reads or writes the store.
        self.lock: AbstractContextManager[Any] = threading.RLock()

    @cached_property
    def embedder(self) -> Embedder:
        if self._embedder is not None:
            return self._embedder
        try:
            return load_embedder(self.settings.embedder)
        except UnknownModelError as exc:
            raise UserError(str(exc)) from None
        except ModelError as exc:
            raise Failure(str(exc)) from None

    @property
    def embedder_name(self) -> str:
        return self._embedder.name if self._embedder is not None else self.settings.embedder

    @cached_property
    def unlocked(self) -> Unlocked:
        """The store's key (None when it is plain) and where it came from (agent/keys.py)."""
        return unlock(self.settings)

    @cached_property
    def store(self) -> MemoryStore:
        # Opened from the embedder's name and size alone: stats, pin or forget load no model.
        try:
            dim = (
                self._embedder.dim
                if self._embedder is not None
                else (embedder_dim(self.settings.embedder))
            )
        except UnknownModelError as exc:
            raise UserError(str(exc)) from None
        try:
            return MemoryStore.open(
                self.settings.store_path,
                vector_dim=dim,
                embedder=self.embedder_name,
                budget=RamBudget(self.settings.ram_budget_mb * 1024),
                key=self.unlocked.key,
            )
        except (WrongKeyError, KeyNeededError) as exc:
            raise UserError(str(exc)) from None
        except StorageError as exc:
            raise Failure(str(exc)) from None
        except OSError as exc:  # a home that cannot be made or written (/proc/x, read-only)
            raise UserError(
                f"cannot keep papertape's data in {self.settings.home} "
                f"({exc.strerror or exc}): give another folder (--home or PAPERTAPE_HOME)."
            ) from None

    @cached_property
    def ocr(self) -> OCRReader:
        try:
            return load_reader("rapidocr")
        except ModelError as exc:
            raise Failure(str(exc)) from None

    @cached_property
    def transcriber(self) -> Transcriber:
        try:
            return load_transcriber(self.settings.transcriber, self.settings.models_dir)
        except ModelError as exc:
            raise Failure(str(exc)) from None

    @cached_property
    def ingestor(self) -> Ingestor:
        return Ingestor(
            self.store,
            self.embedder,
            self.settings,
            ocr=lambda: self.ocr,
            transcriber=lambda: self.transcriber,
        )

    def model(self, spec: str | None = None) -> LoadedModel:
        """The language model `spec` names (default: the settings' choice), loaded once."""
        key = spec or self.settings.model
        if key not in self._models:
            if self._generator is not None:
                self._models[key] = given_model(self._generator)
            else:
                self._models[key] = open_model(self.settings, self.device(), spec)
        return self._models[key]

    def generator(self, spec: str | None = None) -> Generator:
        return self.model(spec).generator

    def chat(
        self, *, model: str | None = None, session: str | None = None, remember: bool = True
    ) -> ChatSession:
        """A conversation over the memories; each turn is stored as a chat memory."""
        generator = self.generator(model)
        with self.lock:  # a continued conversation reads its turns from the store
            return ChatSession(
                self.store,
                self.embedder,
                generator,
                self.settings,
                session=session,
                remember=remember,
                lock=self.lock,
            )

    def close(self) -> None:
        for loaded in self._models.values():
            close = getattr(loaded.generator, "close", None)
            if close:
                close()
        self._models.clear()
        self.__dict__.pop("ingestor", None)
        if "store" in self.__dict__:
            self.store.close()
            del self.__dict__["store"]

    def __enter__(self) -> Papertape:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the commands ------------------------------------------------------------------------

    def note(
        self,
        text: str,
        *,
        now: float,
        occurred_at: float | None = None,
        source: str = "note",
        speaker: str | None = None,
        progress: Progress | None = None,
    ) -> IngestResult:
        check_note(text, self.settings)
        return self.ingestor.note(
            text,
            now=now,
            occurred_at=occurred_at,
            source=source,
            speaker=speaker,
            progress=progress,
        )

    def note_many(
        self, notes: Sequence[NoteInput], *, now: float, progress: Progress | None = None
    ) -> list[IngestResult]:
        return self.ingestor.notes(notes, now=now, progress=progress)

    def ingest(
        self,
        paths: Sequence[Path],
        *,
        now: float,
        occurred_at: float | None = None,
        progress: Progress | None = None,
    ) -> list[IngestResult]:
        return self.ingestor.paths(paths, now=now, occurred_at=occurred_at, progress=progress)

    def recall(
        self,
        query: str,
        *,
        now: float,
        k: int | None = None,
        mode: Mode = "fused",
        strengthen: bool = True,
        deep: bool = False,
        include_chat: bool | None = None,
    ) -> list[RecallHit]:
        """Ranked memories; with `deep`, hazy memories' pages are read back by OCR. Past
        exchanges with papertape only with `include_chat` (default: chat_as_evidence)."""
        check_recall(query, k)
        hits = recall_module.recall(
            self.store,
            self.embedder,
            query,
            settings=self.settings,
            now=now,
            k=k,
            mode=mode,
            strengthen=strengthen,
            include_chat=include_chat,
        )
        hits = [replace(h, replaced_by=self.replaced_by(h.memory.id)) for h in hits]
        if not deep:
            return hits
        return [replace(h, read_back=self.read_back(h.memory)) for h in hits]

    def replaced_by(self, memory_id: int) -> int | None:
        """The newest fact that replaces what memory `memory_id` says, if one does."""
        memory = self.store.get(memory_id)
        return None if memory is None else updates.replaced_by(self.store, memory)

    def read_back(self, memory: Memory) -> str | None:
        """The text on a memory's page (a summary's), read back by OCR; None without one."""
        page = self.store.blob(memory.id, "page")
        if page is None:
            return None
        return read_page(self.ocr, page.data, page.meta)

    def summarizer(
        self, model: str | None = None, choice: str | None = None
    ) -> tuple[Summarizer, Generator | None]:
        """The episode summariser asked for (default: the setting), and its model if any."""
        choice = choice or self.settings.summarizer
        if choice == "extractive":
            return ExtractiveSummarizer(), None
        try:
            generator = self.generator(model)
        except Failure as exc:  # no model installed: "auto" falls back, "model" cannot
            if choice == "model":
                raise
            log.info("summaries will be extractive: %s", exc)
            return ExtractiveSummarizer(), None
        return ModelSummarizer(generator), generator

    def time_reader(self) -> TimeReader | None:
        """What reads new memories' time words, as consolidation's first step does: with
        the model consolidation would use, when that model can be held to a schema and
        time_words is on; None otherwise (summaries extractive, no model installed)."""
        if self.settings.time_words == "off":
            return None
        _, generator = self.summarizer()
        if generator is None or not generator.constrains_output:
            return None
        return TimeReader(self.store, generator)

    def consolidate(
        self,
        *,
        now: float,
        model: str | None = None,
        summarizer: str | None = None,
        progress: ConsolidationProgress | None = None,
        new_only: bool = False,
    ) -> ConsolidationReport:
        """Merges, facts, decay, tiers, the byte budget: one consolidation run at `now`
        (`new_only`: time words and facts of what came in since, nothing moved). Facts
        come from the model the summaries use (none when they are extractive)."""
        chosen, generator = self.summarizer(model, summarizer)
        consolidator = Consolidator(
            self.store, self.embedder, self.settings, chosen, rater=generator, facts=generator
        )
        return consolidator.run(now, progress, new_only=new_only)

    def _require(self, ids: Iterable[int]) -> list[int]:
        wanted = list(dict.fromkeys(ids))
        found = self.store.get_many(wanted)
        missing = [str(i) for i in wanted if i not in found]
        if missing:
            raise UserError(f"no memory with id {', '.join(missing)}; nothing was changed.")
        return wanted

    def forget(self, ids: Iterable[int]) -> list[int]:
        """Delete for good, with what carries their words (agent/memory/forgetting.py); returns
        every id deleted."""
        wanted = self._require(ids)
        # The embedder loads only when a summary must be written again without them.
        return forgetting.forget(
            self.store,
            lambda: self.embedder,
            wanted,
            page_font_px=self.settings.page_font_px,
            page_format=self.settings.page_format,
        )

    def set_pinned(self, ids: Iterable[int], pinned: bool) -> list[int]:
        wanted = self._require(ids)
        for memory_id in wanted:
            self.store.set_pinned(memory_id, pinned)
        return wanted

    def restore_current(self, ids: Iterable[int]) -> dict[int, list[int]]:
        """Undo the updates linked to these memories or their facts (a wrong one hides a true
        fact from `ask`): each holds again. For each id, the facts that no longer replace it."""
        wanted = self._require(ids)
        found = self.store.get_many(wanted)
        return {memory_id: updates.restore(self.store, found[memory_id]) for memory_id in wanted}

    def stats(self) -> StoreStats:
        return self.store.stats()

    def status(self) -> AppStatus:
        """What the status screen shows: daemon, models, and the store per tier."""
        loaded = tuple(f"{m.source.name} on {m.plan.backend}" for m in self._models.values())
        return AppStatus(
            home=str(self.settings.home),
            daemon="not running: papertape works in-process",
            embedder=self.embedder_name,
            loaded_models=loaded,
            planned_model=self.planned_model(),
            stats=self.stats(),
        )

    def planned_model(self) -> str:
        """The language model the next question would load, and how, in a few words."""
        try:
            source, plan = plan_model(self.settings, self.device())
            planned = (
                f"{plan.model} on {plan.backend}, {plan.threads} threads, "
                f"{plan.context_tokens}-token context"
                if source is not None and plan.model
                else "none installed (scripts/setup installs SmolLM2)"
            )
        except UserError as exc:
            planned = f"not usable: {exc}"
        return planned

    def is_empty(self) -> bool:
        return self.store.count() == 0

    def memory(self, memory_id: int) -> Memory:
        found = self.store.get(memory_id)
        if found is None:
            raise UserError(f"no memory with id {memory_id}.")
        return found

    def links(self, memory_id: int) -> list[Link]:
        """Every link from or to the memory."""
        return self.store.links_from(memory_id) + self.store.links_to(memory_id)

    def page(self, memory_id: int) -> Blob | None:
        return self.store.blob(memory_id, "page") or self.store.blob(memory_id, "thumbnail")

    def last_conversation(self) -> str | None:
        """The name of the conversation `ask` last stored an exchange of, if any."""
        return last_conversation(self.store)

    def time_words(self, memory_id: int) -> TimeWords | None:
        """The words naming another time that consolidation found in the memory, if any."""
        return self.store.times_of([memory_id]).get(memory_id)

    def timeline(
        self, *, before: tuple[float, int] | None = None, limit: int = 100
    ) -> list[Memory]:
        """Memories newest first, a page at a time (pass the last one's (occurred_at, id))."""
        return self.store.newest(before, limit)

    def edit(self, memory_id: int, text: str) -> Memory:
        """Replace a sharp memory's text: re-embedded, re-indexed, same id and times; the
        words it takes out are forgotten with what carries them (agent/memory/forgetting.py)."""
        memory = self.memory(memory_id)
        check_utf8(text, "the new text")
        clean = clean_note(text).text  # secrets out before the text is written
        if not clean:
            raise UserError("the new text is empty: forget the memory instead.")
        if memory.tier != "sharp" or memory.kind == "document":
            raise UserError(f"memory {memory_id} is {memory.tier}; only sharp text can be edited.")
        digest = verbatim_hash(clean, kind=memory.kind, source=memory.source)
        other = self.store.find_by_hash(digest)
        if other is not None and other != memory_id:
            raise UserError(f"memory {other} already holds that text; nothing was changed.")
        forgetting.edit(self.store, memory_id, clean, digest, embed_one(self.embedder, clean))
        return self.memory(memory_id)

    def export(self) -> Iterator[str]:
        return export_lines(self.store, self.embedder_name)

    def import_(self, lines: Iterable[str]) -> ImportReport:
        return import_lines(self.store, self.embedder, lines)

    def device(self) -> DeviceInfo:
        return probe(self.settings.home)
