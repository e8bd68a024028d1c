"""Whisper on CTranslate2 (faster-whisper), int8 on the CPU, from catalogued files only.

whisper-base is split over two packages: its model.bin is joined into the home's models
folder (sha256 checked) beside the config, tokenizer and vocabulary of the first part.
whisper-tiny.en is used where pip put it. Nothing is fetched: faster-whisper is given a
folder, never a model name, and the Hugging Face hub is told to stay offline.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from models.catalog import locate_part, model_file, verified_path
from models.errors import MissingModelError, MissingRuntimeError
from models.transcriber import Segment, Transcript, UnreadableAudioError

log = logging.getLogger(__name__)
SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


def _runtime() -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        import faster_whisper
    except ImportError as exc:
        raise MissingRuntimeError(
            "audio needs faster-whisper: run scripts/setup, or pip install 'papertape[audio]'."
        ) from exc
    return faster_whisper


def model_folder(name: str, models_dir: Path) -> Path:
    """The folder faster-whisper loads: model.bin checked, the side files beside it."""
    entry = model_file(name, role="transcriber")
    model_bin = verified_path(entry, models_dir)
    folder = model_bin.parent
    if entry.assembled:
        source = locate_part(entry.parts[0])
        if source is None:
            raise MissingModelError(f"{name} is not installed: run scripts/setup.")
        for side in SIDE_FILES:
            if not (folder / side).exists():
                shutil.copyfile(source.parent / side, folder / side)
    return folder


# Whisper's own segments can run across a silence; words further apart than this start a new one.
WORD_GAP_S = 0.8


def split_at_pauses(piece: Any) -> list[Segment]:
    """A Whisper segment cut where its words pause, so pauses can separate memories."""
    words = list(piece.words or [])
    if not words:
        text = piece.text.strip()
        return [Segment(float(piece.start), float(piece.end), text)] if text else []
    runs: list[list[Any]] = [[words[0]]]
    for word in words[1:]:
        if float(word.start) - float(runs[-1][-1].end) > WORD_GAP_S:
            runs.append([word])
        else:
            runs[-1].append(word)
    segments = []
    for run in runs:
        text = "".join(w.word for w in run).strip()
        if text:
            segments.append(Segment(float(run[0].start), float(run[-1].end), text))
    return segments


class WhisperTranscriber:
    def __init__(self, name: str, model: Any) -> None:
        self.name = name
        self._model = model

    @classmethod
    def load(cls, name: str, models_dir: Path, threads: int = 0) -> WhisperTranscriber:
        faster_whisper = _runtime()
        folder = model_folder(name, models_dir)
        model = faster_whisper.WhisperModel(
            str(folder), device="cpu", compute_type="int8", cpu_threads=threads
        )
        return cls(name, model)

    def transcribe(
        self, path: Path, *, on_segment: Callable[[Segment, float], None] | None = None
    ) -> Transcript:
        try:
            pieces, info = self._model.transcribe(
                str(path),
                vad_filter=True,
                beam_size=5,
                condition_on_previous_text=False,
                word_timestamps=True,
            )
            segments: list[Segment] = []
            for piece in pieces:  # a generator: decoding happens as it is read
                for segment in split_at_pauses(piece):
                    segments.append(segment)
                    if on_segment:
                        on_segment(segment, float(info.duration))
        except (OSError, ValueError, RuntimeError) as exc:
            raise UnreadableAudioError(f"is not audio that can be decoded ({exc})") from None
        except Exception as exc:  # PyAV's decode errors have their own hierarchy
            if type(exc).__module__.startswith("av"):
                raise UnreadableAudioError(f"is not audio that can be decoded ({exc})") from None
            raise
        return Transcript(str(info.language), float(info.duration), tuple(segments))
