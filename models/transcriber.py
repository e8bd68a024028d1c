"""The Transcriber protocol: speech in an audio file to timed text segments."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from models.errors import ModelError, UnknownModelError
from models.names import closest_hint


class UnreadableAudioError(ModelError):
    """The file is not audio the decoder can read (bad input, not a bug)."""


@dataclass(frozen=True)
class Segment:
    start: float  # seconds from the start of the file
    end: float
    text: str


@dataclass(frozen=True)
class Transcript:
    language: str
    duration: float
    segments: tuple[Segment, ...]


@runtime_checkable
class Transcriber(Protocol):
    name: str

    def transcribe(
        self, path: Path, *, on_segment: Callable[[Segment, float], None] | None = None
    ) -> Transcript:
        """Speech in `path` (quiet stretches skipped by voice-activity detection);
        `on_segment(segment, duration)` reports progress as segments come."""
        ...


def transcriber_names() -> list[str]:
    return ["whisper-base", "whisper-tiny.en"]


def load_transcriber(name: str, models_dir: Path) -> Transcriber:
    if name not in transcriber_names():
        raise UnknownModelError(
            f"there is no transcriber called {name!r}; valid: {', '.join(transcriber_names())}."
            + closest_hint(name, transcriber_names())
        )
    from models.whisper import WhisperTranscriber

    loaded: Transcriber = WhisperTranscriber.load(name, models_dir)
    return loaded
