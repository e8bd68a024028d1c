"""Text ingest: notes, stdin, text files and folders. Idempotent by content hash.

Every item is read and checked, then written in its own transaction with its vectors and
passages, so a bad item changes nothing; outside the daemon an image or recording is written
as soon as it is read, so a kill loses no minutes of OCR or listening. An
ingestor given `should_stop` (the daemon's) gives up between steps once it comes true,
raising Stopped: what it had not committed is rolled back.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from agent.clock import quantize
from agent.errors import Stopped, UserError
from agent.ingest.audio import AudioRejected, group_segments, media_blob, transcribe_file
from agent.ingest.exclusions import excluded_folder, excluded_screen
from agent.ingest.files import Rejected, listed_files, media_kind, not_a_file, read_text_file
from agent.ingest.notes import (
    IngestResult,
    NoteInput,
    clean_note,
    normalise,
    verbatim_hash,
    with_speaker,
)
from agent.ingest.passages import in_groups, split_passages, title_of
from agent.ingest.redact import redact, redact_parts
from agent.ingest.screenshots import (
    ImageRejected,
    dhash,
    open_image,
    read_screenshot,
    same_pixels,
    same_screen,
    screen_names,
)
from agent.memory.importance import signal_importance
from agent.memory.retention import initial_strength
from agent.settings import Settings
from models import Embedder
from models.ocr import OCRReader
from models.transcriber import Transcriber
from storage import Blob, MemoryStore, NewMemory

EMBED_GROUP = 256  # passages embedded together before their items are written
STOP_EVERY = 64  # passages written between looks at should_stop

Progress = Callable[[int, int, str], None]
OnWrite = Callable[[int], None]


@dataclass(frozen=True)
class _Item:
    label: str
    source: str
    text: str
    occurred_at: float
    content_hash: str
    passages: tuple[str, ...]
    kind: str = "text"
    redacted: int = 0
    blobs: tuple[Blob, ...] = ()  # written with the memory (memory_id filled in then)
    passage_offsets: tuple[float, ...] = ()  # seconds into a recording, one per passage
    speaker: str | None = None  # who said it; every memory the item writes is theirs


class Ingestor:
    def __init__(
        self,
        store: MemoryStore,
        embedder: Embedder,
        settings: Settings,
        ocr: Callable[[], OCRReader] | None = None,
        transcriber: Callable[[], Transcriber] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self.ocr = ocr  # opened on the first screenshot
        self.transcriber = transcriber  # loaded on the first recording
        self.should_stop = should_stop

    def _check_stop(self) -> None:
        if self.should_stop is not None and self.should_stop():
            raise Stopped("the daemon is stopping: it stays queued.")

    def _item(
        self,
        label: str,
        source: str,
        text: str,
        occurred_at: float,
        kind: str = "text",
        redacted: int | None = None,
        speaker: str | None = None,
    ) -> _Item:
        # Secrets go before anything else sees the text: hash, passages, vectors, the store.
        # `redacted` given: the daemon redacted the text before it was queued.
        if redacted is None:
            cleaned = clean_note(text)
            clean, redacted = cleaned.text, cleaned.total
        else:
            clean = normalise(text)
        # A file, app or window name can hold one too (a token in a window title). A file
        # name's bytes that are not UTF-8 (decoded as lone surrogates) are shown as U+FFFD.
        named = redact(source.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))
        if speaker is not None:
            clean, speaker, named_secrets = with_speaker(clean, speaker)
            redacted += named_secrets
        return _Item(
            label=label,
            source=named.text,
            text=clean,
            occurred_at=quantize(occurred_at),
            content_hash=verbatim_hash(clean, kind=kind, source=named.text),
            passages=tuple(split_passages(clean, self.settings.passage_chars)),
            kind=kind,
            redacted=redacted + named.total,
            speaker=speaker,
        )

    def note(
        self,
        text: str,
        *,
        now: float,
        occurred_at: float | None = None,
        source: str = "note",
        kind: str = "text",
        speaker: str | None = None,
        progress: Progress | None = None,
    ) -> IngestResult:
        """Store one note (or stdin) as a memory; a long one is split like a document."""
        if not normalise(text):
            raise UserError("the note is empty: give some text.")
        item = self._item(source, source, text, occurred_at or now, kind, speaker=speaker)
        return self._store_all([item], now, progress)[0]

    def notes(
        self,
        notes: Sequence[NoteInput],
        *,
        now: float,
        progress: Progress | None = None,
        on_write: OnWrite | None = None,
    ) -> list[IngestResult]:
        """Store many notes, embedded in batches; empty ones are rejected, not raised.
        `on_write(i)` runs inside the transaction that stores note i (the daemon takes the
        note off its queue there)."""
        slots: list[IngestResult | _Item] = [self._note_item(entry) for entry in notes]
        return self._store_all(slots, now, progress, on_write)

    def _note_item(self, entry: NoteInput) -> IngestResult | _Item:
        if not normalise(entry.text):
            return IngestResult(entry.source, "rejected", reason="is empty")
        try:
            return self._item(
                entry.source,
                entry.source,
                entry.text,
                entry.occurred_at,
                redacted=entry.redacted,
                speaker=entry.speaker,
            )
        except UserError as exc:
            return IngestResult(entry.source, "rejected", reason=str(exc))

    def paths(
        self,
        paths: Sequence[Path],
        *,
        now: float,
        occurred_at: float | None = None,
        progress: Progress | None = None,
        on_write: OnWrite | None = None,
    ) -> list[IngestResult]:
        """Ingest files and folders; one result per file (or per unusable path), in order."""
        progress = self._watched(progress)
        slots: list[IngestResult | _Item] = []
        max_bytes = int(self.settings.max_file_mb * 1_000_000)
        listed, media = listed_files(paths, self.settings)
        read = 0  # images and recordings read: the slow part of a folder
        for path, files in listed:
            if files is None:
                slots.append(IngestResult(str(path), "rejected", reason="does not exist"))
                continue
            found = 0
            for file in files:
                rule = excluded_folder(file, self.settings)
                if rule is not None:
                    found += 1
                    slots.append(
                        IngestResult(str(file), "excluded", reason=f"is excluded by {rule}")
                    )
                    continue
                unusable = not_a_file(file, path)
                if unusable is not None:
                    found += 1  # reported on its own; not also "holds no readable files"
                    slots.append(IngestResult(str(file), "rejected", reason=unusable))
                    continue
                when = occurred_at if occurred_at is not None else file.stat().st_mtime
                kind = media_kind(file)
                if kind is not None:
                    found, read = found + 1, read + 1
                    if kind == "image":
                        slot = self._screenshot(file, when, now)
                    else:
                        slot = self._recording(file, when, progress)
                    # Stored once read, so a kill loses no minutes of OCR or listening (the
                    # daemon takes its queue entry with the whole path's write instead).
                    if on_write is None and isinstance(slot, _Item):
                        slot = self._store_all([slot], now)[0]
                    slots.append(slot)
                    if progress and media > 1:
                        progress(read, media, f"read {file.name}")
                    continue
                try:
                    text = read_text_file(file, max_bytes)
                except Rejected as exc:
                    slots.append(IngestResult(str(file), "rejected", reason=str(exc)))
                    continue
                found += 1
                slots.append(self._item(str(file), str(file.resolve()), text, when))
            if path.is_dir() and found == 0:
                slots.append(
                    IngestResult(str(path), "rejected", reason="holds no readable text files")
                )
        return self._store_all(slots, now, progress, on_write)

    def _watched(self, progress: Progress | None) -> Progress | None:
        """`progress`, looking at should_stop each time it is called (a long recording reports
        each segment heard)."""
        if self.should_stop is None:
            return progress

        def report(done: int, total: int, label: str) -> None:
            self._check_stop()
            if progress:
                progress(done, total, label)

        return report

    def _recording(
        self, file: Path, when: float, progress: Progress | None
    ) -> IngestResult | _Item:
        label = str(file)
        if self.transcriber is None:
            return IngestResult(label, "rejected", reason="is audio, and no transcriber is set up")
        try:
            transcript = transcribe_file(file, self.transcriber(), self.settings, progress)
        except AudioRejected as exc:
            return IngestResult(label, "rejected", reason=str(exc))
        groups = group_segments(
            transcript.segments, self.settings.audio_pause_s, self.settings.audio_memory_s
        )
        # All of it as one text: a seed phrase may run on past a pause.
        heard = redact_parts([" ".join(s.text for s in group) for group in groups])
        text = "\n".join(h.text for h in heard)
        item = self._item(label, str(file.resolve()), text, when, "audio")
        secrets = sum(h.total for h in heard)
        # A recording whose words held a secret still says it: it is not kept.
        keep = "drop" if secrets else self.settings.audio_keep
        blob = media_blob(file, transcript, groups, keep, "held a secret" if secrets else "")
        return replace(
            item,
            passages=tuple(h.text for h in heard),
            passage_offsets=tuple(group[0].start for group in groups),
            blobs=(blob,),
            redacted=item.redacted + secrets,
        )

    def _screenshot(self, file: Path, when: float, now: float) -> IngestResult | _Item:
        label = str(file)
        if self.ocr is None:
            return IngestResult(label, "rejected", reason="is an image, and no OCR is set up")
        try:
            app, window = screen_names(file)
            rule = excluded_screen(app, window, self.settings)
            if rule is not None:  # decided before any OCR runs on it
                return IngestResult(label, "excluded", reason=f"is excluded by {rule}")
            # The same screen again is known by its hash alone: no OCR for a duplicate.
            image = open_image(file)
            seen = dhash(image)
            for memory_id, meta in self.store.blob_metas("thumbnail"):
                info = json.loads(meta)
                if same_screen(info, seen) and self._same_thumbnail(memory_id, image):
                    return self._seen_again(label, memory_id, info)
            read = read_screenshot(file, self.ocr(), image)
        except ImageRejected as exc:
            return IngestResult(label, "rejected", reason=str(exc))
        if not read.text and self.settings.screenshots_without_text == "skip":
            return IngestResult(
                label, "rejected", reason="has no text (screenshots_without_text = skip)"
            )
        text = read.text or f"Screenshot of {read.window} (no text found)"
        item = self._item(label, str(file.resolve()), text, when, "screenshot")
        thumbnail = Blob(0, "thumbnail", "image/webp", read.thumbnail, read.meta())
        return replace(item, redacted=read.redacted + item.redacted, blobs=(thumbnail,))

    def _same_thumbnail(self, memory_id: int, image: Any) -> bool:
        stored = self.store.blob(memory_id, "thumbnail")
        return stored is not None and same_pixels(stored.data, image)

    def _seen_again(self, label: str, memory_id: int, info: dict[str, Any]) -> IngestResult:
        """The same screen again: one memory, seen once more, a little stronger."""
        memory = self.store.get(memory_id)
        if memory is None:
            return IngestResult(label, "rejected", reason="matched a screenshot being forgotten")
        info["count"] = int(info.get("count", 1)) + 1
        boost = initial_strength(memory.importance, self.settings.base_strength_days)
        with self.store.transaction():
            self.store.update_memory(memory_id, strength=memory.strength + boost)
            self.store.set_blob_meta(memory_id, "thumbnail", json.dumps(info))
        return IngestResult(label, "duplicate", memory_id)

    def _store_all(
        self,
        slots: Sequence[IngestResult | _Item],
        now: float,
        progress: Progress | None = None,
        on_write: OnWrite | None = None,
    ) -> list[IngestResult]:
        """Store the items among `slots`; results come back in the order of `slots`."""
        # A stop asked for while the slots were read (a transcriber may have turned it into a
        # rejection) leaves everything as it was.
        self._check_stop()
        results: list[IngestResult | None] = [
            slot if isinstance(slot, IngestResult) else None for slot in slots
        ]
        pending = [(i, slot) for i, slot in enumerate(slots) if isinstance(slot, _Item)]
        done = 0

        def finish(index: int, result: IngestResult) -> None:
            nonlocal done
            results[index] = result
            done += 1
            if progress:
                progress(done, len(pending), result.label)

        fresh = []
        for index, item in pending:  # known content is answered without embedding it again
            existing = self.store.find_by_hash(item.content_hash)
            if existing is None:
                fresh.append((index, item))
            else:
                finish(
                    index, IngestResult(item.label, "duplicate", existing, redacted=item.redacted)
                )
        for group in in_groups(fresh, lambda entry: len(entry[1].passages), EMBED_GROUP):
            vectors = self._embed([p for _, item in group for p in item.passages], progress)
            offset = 0
            for index, item in group:
                self._check_stop()
                count = len(item.passages)
                written = self._write(item, vectors[offset : offset + count], now, index, on_write)
                finish(index, written)
                offset += count
        return [result for result in results if result is not None]

    def _embed(self, passages: list[str], progress: Progress | None = None) -> np.ndarray:
        """Vectors for `passages`, EMBED_GROUP at a time (a long note holds thousands: minutes
        on 2 cores), with a look at should_stop and a step of `progress` between calls."""
        if len(passages) <= EMBED_GROUP:
            return self.embedder.embed(passages)
        parts = []
        for start in range(0, len(passages), EMBED_GROUP):
            self._check_stop()
            if progress:
                progress(start, len(passages), "passages embedded")
            parts.append(self.embedder.embed(passages[start : start + EMBED_GROUP]))
        return np.concatenate(parts)

    def _write(
        self,
        item: _Item,
        vectors: np.ndarray,
        now: float,
        index: int = 0,
        on_write: OnWrite | None = None,
    ) -> IngestResult:
        def memory(kind: str, text: str, chash: str) -> NewMemory:
            importance = signal_importance(text, kind)
            strength = initial_strength(importance, self.settings.base_strength_days)
            return NewMemory(
                kind=kind,
                source=item.source,
                occurred_at=item.occurred_at,
                ingested_at=now,
                content_hash=chash,
                text=text,
                strength=strength,
                importance=importance,
            )

        with self.store.transaction():
            if on_write is not None:
                on_write(index)
            # Checked again inside the write: the same content twice in one batch, or another
            # writer, must give the existing id, not a constraint error.
            existing = self.store.find_by_hash(item.content_hash)
            if existing is not None:
                return IngestResult(item.label, "duplicate", existing, redacted=item.redacted)
            if len(item.passages) == 1:
                text = item.passages[0] if item.passage_offsets else item.text
                single = memory(item.kind, text, item.content_hash)
                if item.passage_offsets:
                    single = replace(single, occurred_at=item.occurred_at + item.passage_offsets[0])
                new_id = self.store.add(single, vectors[0])
                if item.speaker is not None:
                    self.store.set_speaker(new_id, item.speaker)
                for blob in item.blobs:
                    self.store.put_blob(replace(blob, memory_id=new_id))
                return IngestResult(item.label, "stored", new_id, 1, redacted=item.redacted)
            # The document row holds the title; its passages hold the text and the vectors.
            name = Path(item.source).name
            title = f"Recording {name}" if item.kind == "audio" else title_of(item.text, name)
            doc_id = self.store.add(memory("document", title, item.content_hash), None)
            if item.speaker is not None:
                self.store.set_speaker(doc_id, item.speaker)
            for blob in item.blobs:
                self.store.put_blob(replace(blob, memory_id=doc_id))
            for position, (passage, vector) in enumerate(zip(item.passages, vectors, strict=True)):
                if position % STOP_EVERY == STOP_EVERY - 1:
                    self._check_stop()  # rolls the whole item back
                passage_hash = hashlib.sha256(
                    f"{item.content_hash}#{position}".encode()
                ).hexdigest()
                part = memory(item.kind, passage, passage_hash)
                if item.passage_offsets:
                    part = replace(
                        part, occurred_at=item.occurred_at + item.passage_offsets[position]
                    )
                passage_id = self.store.add(part, vector)
                if item.speaker is not None:
                    self.store.set_speaker(passage_id, item.speaker)
                self.store.link(passage_id, doc_id, "part_of", position)
            return IngestResult(
                item.label, "stored", doc_id, len(item.passages), redacted=item.redacted
            )
