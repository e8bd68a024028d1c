"""Audio through the real Whisper base model on speech made with espeak-ng."""

from __future__ import annotations

import json
import shutil
import subprocess
import wave
from pathlib import Path

import pytest

from agent.ingest.audio import group_segments
from agent.service import Papertape
from models.transcriber import Segment
from tests.conftest import NOW

needs_espeak = pytest.mark.skipif(
    shutil.which("espeak-ng") is None,
    reason="espeak-ng is not installed (scripts/test installs it)",
)


def speak(path: Path, text: str, words_per_minute: int = 175) -> Path:
    subprocess.run(
        ["espeak-ng", "-s", str(words_per_minute), "-w", str(path), text],
        check=True,
        capture_output=True,
    )
    return path


def join_with_silence(out: Path, first: Path, second: Path, seconds: float) -> Path:
    with wave.open(str(first)) as a, wave.open(str(second)) as b:
        params = a.getparams()
        frames = a.readframes(a.getnframes())
        silence = b"\x00" * int(params.framerate * seconds) * params.sampwidth * params.nchannels
        rest = b.readframes(b.getnframes())
    with wave.open(str(out), "wb") as joined:
        joined.setparams(params)
        joined.writeframes(frames + silence + rest)
    return out


def test_segments_group_by_pause_and_length() -> None:
    segments = (
        Segment(0.0, 2.0, "a"),
        Segment(2.5, 4.0, "b"),  # half a second later: same memory
        Segment(7.0, 9.0, "c"),  # three seconds of quiet: a new one
        Segment(9.1, 40.0, "d"),  # would make it over 30 s: a new one
    )
    groups = group_segments(segments, pause_s=2.0, max_s=30.0)
    assert [[s.text for s in g] for g in groups] == [["a", "b"], ["c"], ["d"]]


@needs_espeak
@pytest.mark.integration
def test_a_spoken_sentence_is_found_by_recall(app: Papertape, tmp_path: Path) -> None:
    wav = speak(tmp_path / "memo.wav", "The plumber comes on Friday morning at nine.")
    (result,) = app.ingest([wav], now=NOW, occurred_at=NOW - 3600)
    assert result.status == "stored", result.reason
    memory = app.store.get(result.memory_id)  # type: ignore[arg-type]
    assert memory is not None
    assert memory.kind == "audio"
    assert "plumber" in memory.text.lower()
    assert "friday" in memory.text.lower()
    media = app.store.blob(memory.id, "media")
    assert media is not None
    assert media.data == wav.read_bytes()
    assert json.loads(media.meta)["language"] == "en"
    hits = app.recall("when does the plumber come", now=NOW, strengthen=False)
    assert hits[0].memory.id == memory.id


@needs_espeak
@pytest.mark.integration
def test_a_pause_separates_memories_at_their_offsets(app: Papertape, tmp_path: Path) -> None:
    first = speak(tmp_path / "a.wav", "Remember to buy milk on the way home.")
    second = speak(tmp_path / "b.wav", "The dentist moved my appointment to Tuesday.")
    both = join_with_silence(tmp_path / "both.wav", first, second, 4.0)
    (result,) = app.ingest([both], now=NOW, occurred_at=NOW)
    assert (result.status, result.passages) == ("stored", 2), result
    parts = [
        app.store.get(link.from_id)
        for link in app.store.links_to(result.memory_id)  # type: ignore[arg-type]
    ]
    found = sorted((p for p in parts if p is not None), key=lambda m: m.occurred_at)
    assert "milk" in found[0].text.lower()
    assert "dentist" in found[1].text.lower()
    assert found[0].occurred_at < NOW + 1
    assert NOW + 4 < found[1].occurred_at < NOW + 10
    document = app.store.get(result.memory_id)  # type: ignore[arg-type]
    assert document is not None
    assert document.text == "Recording both.wav"
    assert len(json.loads(app.store.blob(document.id, "media").meta)["memories"]) == 2  # type: ignore[union-attr]


@needs_espeak
@pytest.mark.integration
def test_audio_can_be_kept_as_opus(home: Path, tmp_path: Path) -> None:
    from agent.settings import load_settings
    from models.fake_embedder import FakeEmbedder

    settings = load_settings(home, overrides={"embedder": "fake", "audio_keep": "compress"})
    with Papertape(settings, embedder=FakeEmbedder()) as app:
        wav = speak(tmp_path / "memo.wav", "Call the bank about the new card.")
        (result,) = app.ingest([wav], now=NOW)
        media = app.store.blob(result.memory_id, "media")  # type: ignore[arg-type]
        assert media is not None
        assert media.media_type == "audio/ogg"
        assert len(media.data) < wav.stat().st_size / 4


@pytest.mark.integration
def test_bad_audio_is_one_sentence(cli, tmp_path: Path) -> None:
    garbage = tmp_path / "broken.wav"
    garbage.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(256)) * 8)
    silent = tmp_path / "silent.wav"
    with wave.open(str(silent), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(b"\x00\x00" * 16000 * 2)
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    result = cli("ingest", str(garbage), str(silent), str(empty))
    assert result.code == 2
    assert "Traceback" not in result.err
    assert "broken.wav is not audio that can be decoded" in result.err
    assert "silent.wav holds no speech" in result.err
    assert "empty.wav is empty" in result.err


SEED = "coffee odor squirrel post fossil assault embrace nut anger reason valid eagle"


@needs_espeak
@pytest.mark.integration
def test_spoken_secrets_are_redacted_and_their_recording_is_not_kept(
    app: Papertape, tmp_path: Path
) -> None:
    # What espeak-ng 1.51 says and Whisper base hears (checked by hand): "The pin number for
    # my bank card is 8842" ("The PIN for ..." is heard as "BIN"); "..., it is 219-09-9999.";
    # "My seed phrase is coffee, odor, squirrel, ...".
    pin = speak(tmp_path / "pin.wav", "The pin number for my bank card is 8842.")
    ssn = speak(
        tmp_path / "ssn.wav", "Write down my social security number. It is 2 1 9, 0 9, 9 9 9 9."
    )
    seed = speak(tmp_path / "seed.wav", f"My seed phrase is {SEED.replace(' ', ', ')}.", 140)
    results = app.ingest([pin, ssn, seed], now=NOW)
    spoken = {
        "pin": ("8842", "8,842"),
        "ssn": ("219-09-9999", "9999"),
        "seed": ("squirrel", "fossil", "assault", "embrace", "eagle"),
    }
    for result, (name, secrets) in zip(results, spoken.items(), strict=True):
        assert result.status == "stored", (name, result)
        assert result.redacted >= 1, (name, result)
        memory = app.store.get(result.memory_id)  # type: ignore[arg-type]
        assert memory is not None, (name, memory)
        assert "[redacted " in memory.text, (name, memory)
        assert not any(secret in memory.text.lower() for secret in secrets), memory.text
        media = app.store.blob(memory.id, "media")
        assert media is not None, name
        assert media.data == b"", name  # the voice still says it
        assert json.loads(media.meta)["dropped"] == "held a secret"
    app.store.checkpoint()
    # Every file of the store (main, cold, write-ahead log); the home also holds model files.
    files = sorted(app.settings.home.glob("papertape*"))
    assert app.settings.store_path in files
    home = b"".join(p.read_bytes() for p in files)
    for secret in (b"8842", b"8,842", b"219-09-9999", b"squirrel", b"fossil"):
        assert secret not in home, secret
