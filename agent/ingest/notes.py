"""What ingest takes and gives back: a note, the result of storing something, and the note's
text made safe to write (normalised, hashed, secrets redacted)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from agent.ingest.redact import Redaction, redact


@dataclass(frozen=True)
class IngestResult:
    label: str
    status: str  # stored | duplicate | rejected | excluded (by a rule in the settings)
    memory_id: int | None = None  # the note or document stored, or the one it duplicates
    passages: int = 0
    reason: str = ""
    redacted: int = 0  # secrets replaced before storing (how many, never what)


@dataclass(frozen=True)
class NoteInput:
    text: str
    occurred_at: float
    source: str = "note"
    # Secrets already taken out by clean_note (the daemon does so before it queues a note),
    # and how many; None: the text is as the person gave it.
    redacted: int | None = None


def content_hash(text: str) -> str:
    return hashlib.sha256(normalise(text).encode("utf-8")).hexdigest()


def normalise(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def clean_note(text: str) -> Redaction:
    """A note's text as it may be written anywhere: normalised, secrets redacted."""
    return redact(normalise(text))
