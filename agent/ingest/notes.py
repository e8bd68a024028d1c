"""What ingest takes and gives back: a note, the result of storing something, and the note's
text made safe to write (normalised, hashed, secrets redacted)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from agent.errors import UserError
from agent.ingest.redact import Redaction, redact
from agent.limits import check_utf8


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
    speaker: str | None = None  # who said it, when it was said by someone (a chat line)


SPEAKER_MAX_CHARS = 100


def check_speaker(speaker: str) -> str:
    """The speaker's name, stripped; a UserError when it is not a name on one line."""
    name = speaker.strip()
    check_utf8(name, "the speaker")
    if not name or "\n" in name or "\r" in name or len(name) > SPEAKER_MAX_CHARS:
        raise UserError(
            f"the speaker must be a name on one line of at most {SPEAKER_MAX_CHARS} "
            f"characters; got {speaker[:40]!r}."
        )
    return name


def with_speaker(clean: str, speaker: str) -> tuple[str, str, int]:
    """A line someone said, as a transcript writes it (their name, then their clean words);
    the name, with any secret in it taken out; and how many were."""
    said_by = redact(check_speaker(speaker))
    return f"{said_by.text}: {clean}", said_by.text, said_by.total


def content_hash(text: str) -> str:
    return hashlib.sha256(normalise(text).encode("utf-8")).hexdigest()


def verbatim_hash(text: str, *, kind: str, source: str) -> str:
    """The content hash of a memory as written, which keeps a text once in the store. An
    exchange with papertape (kind "chat") is hashed with its conversation's source: the same
    question and answer in two conversations belong to each."""
    if kind == "chat":
        return content_hash(f"{source}\n{normalise(text)}")
    return content_hash(text)


def verbatim_hashes(text: str, *, kind: str, source: str) -> tuple[str, ...]:
    """Every hash a memory stored as written may carry: `verbatim_hash`, and for an exchange
    kept before exchanges were hashed with their conversation, its text's own hash."""
    return (verbatim_hash(text, kind=kind, source=source), content_hash(text))


def normalise(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def clean_note(text: str) -> Redaction:
    """A note's text as it may be written anywhere: normalised, secrets redacted."""
    return redact(normalise(text))
