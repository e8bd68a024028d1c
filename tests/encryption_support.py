"""Helpers shared by the encryption tests: files of a home, leak search, stores to convert."""

from __future__ import annotations

import random
import wave
from pathlib import Path
from typing import Any

import numpy as np

from agent.settings import Settings, load_settings
from models.transcriber import Segment, Transcript
from storage import MemoryStore, NewMemory
from storage.cipher import Key
from tests.conftest import NOW

ROOT = Path(__file__).resolve().parents[1]


DAY = 86_400.0


class FakeTranscriber:
    """Hears the same sentence in any recording (Whisper is for the integration suite)."""

    name = "fake-transcriber"

    def __init__(self, text: str) -> None:
        self.text = text

    def transcribe(self, path: Path, *, on_segment: Any = None) -> Transcript:
        return Transcript("en", 3.0, (Segment(0.0, 3.0, self.text),))


def write_wav(path: Path) -> Path:
    rng = random.Random(7)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16_000)
        out.writeframes(bytes(rng.randrange(256) for _ in range(32_000)))
    return path


def home_files(home: Path) -> list[Path]:
    return [p for p in home.rglob("*") if p.is_file() and not p.is_socket()]


def leaks(home: Path, needles: list[bytes]) -> list[str]:
    """Every (file, needle) where a needle's bytes appear in a file of the home."""
    found = []
    for file in home_files(home):
        data = file.read_bytes()
        found += [f"{file.name}: {n[:30]!r}" for n in needles if n in data]
    return found


def words(text: str) -> list[bytes]:
    """The distinctive words of a memory's text, as they would sit in a file."""
    return sorted({w.encode() for w in text.replace(",", " ").split() if len(w) >= 7})


def encrypted_settings(home: Path) -> Settings:
    return load_settings(
        home,
        overrides={"embedder": "fake", "encrypt": True, "summarizer": "extractive", "facts": "off"},
    )


def new_store(path: Path, key: Key | None, count: int = 20) -> None:
    with MemoryStore.open(path, vector_dim=8, embedder="fake", key=key) as store:
        for i in range(count):
            store.add(
                NewMemory(
                    kind="text",
                    source="note",
                    occurred_at=NOW + i,
                    ingested_at=NOW,
                    content_hash=f"h{i}",
                    text=f"the okapi sanctuary entry {i}",
                    strength=7.0,
                ),
                np.ones(8, dtype=np.float32),
            )
        store.move_to_tier(1, "hazy")  # a row in the cold file too


def snapshot(home: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p): (p.read_bytes(), p.stat().st_mtime_ns) for p in home_files(home)}
