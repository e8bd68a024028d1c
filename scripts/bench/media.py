#!/usr/bin/env python3
"""Audio and screenshots: papertape's ingest against the bare models on the same files.

Audio: sentences spoken by espeak-ng into WAV files. Each file is ingested by papertape
(transcription with voice-activity filtering and word times, grouping, embedding, storing)
and, in the same run, transcribed by faster-whisper alone with the same model and options.
Reported: real-time factor of each (seconds spent / seconds of audio) and their ratio, and
the word error rate of papertape's stored text against what was spoken.

Screenshots: 1280x720 screens of known text (LoCoMo turns) drawn with Pillow. Each is ingested
by papertape (OCR, redaction, hashing, thumbnail, embedding, storing) and read by rapidocr
alone. Reported: seconds per frame of each and their ratio, character accuracy of the stored
text, and, for a second copy of every screen with a small change (a blinking cursor and a
clock a minute on), the share caught as near-duplicates, plus distinct screens wrongly merged.

    python -m scripts.bench.media [--sentences 12] [--screens 10] [--data FILE]
"""

from __future__ import annotations

import argparse
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from agent.service import Papertape
from agent.settings import load_settings
from models.whisper import model_folder
from scripts.bench import common
from scripts.bench.common import edit_distance
from scripts.bench.locomo_data import load

PROG = common.command_name(__file__)

SENTENCES = [
    "The plumber comes on Friday morning at nine.",
    "Remember to buy oat milk and two lemons on the way home.",
    "My sister Anna moved to Lisbon in March.",
    "The quarterly report is due on the fifteenth.",
    "We agreed to meet at the library after lunch.",
    "The car needs new tyres before the winter trip.",
    "Call the bank about the replacement card tomorrow.",
    "The kids have a football match on Saturday afternoon.",
    "Book a table for four at the Italian place.",
    "The new password policy starts next week.",
    "Grandma's birthday party is in the garden this year.",
    "Send the signed contract to Maria by Thursday.",
]
NUMBERS = {
    "0": "zero", "1": "one", "2": "two", "3": "three", "4": "four", "5": "five", "6": "six",
    "7": "seven", "8": "eight", "9": "nine", "10": "ten", "15th": "fifteenth", "4th": "fourth",
}  # fmt: skip


def words(text: str) -> list[str]:
    tokens = re.findall(r"[a-z0-9']+", text.lower())
    return [NUMBERS.get(t, t) for t in tokens]


def stored_text(app: Papertape, memory_id: int | None) -> str:
    """A memory's text; for a document row (a long text or recording), its parts in order."""
    if memory_id is None:
        return ""
    memory = app.store.get(memory_id)
    if memory is None:
        return ""
    if memory.kind != "document":
        return memory.text
    parts = sorted(
        (link for link in app.store.links_to(memory_id) if link.relation == "part_of"),
        key=lambda link: link.position or 0,
    )
    return " ".join(app.store.get(link.from_id).text for link in parts)  # type: ignore[union-attr]


def wav_seconds(path: Path) -> float:
    with wave.open(str(path)) as audio:
        return audio.getnframes() / audio.getframerate()


def bench_audio(tmp: Path, count: int) -> dict[str, float]:
    """One voice memo: the sentences spoken one after another, 2.5 s of quiet between."""
    from faster_whisper import WhisperModel

    spoken = SENTENCES[:count]
    frames = b""
    params = None
    for i, sentence in enumerate(spoken):
        path = tmp / f"s{i:02d}.wav"
        subprocess.run(["espeak-ng", "-w", str(path), sentence], check=True, capture_output=True)
        with wave.open(str(path)) as part:
            params = part.getparams()
            frames += part.readframes(part.getnframes())
            frames += b"\x00" * int(params.framerate * 2.5) * params.sampwidth
    assert params is not None
    memo = tmp / "memo.wav"
    with wave.open(str(memo), "wb") as out:
        out.setparams(params)
        out.writeframes(frames)
    warm = tmp / "s00.wav"
    seconds = wav_seconds(memo)
    settings = load_settings(tmp / "audio-home", env={})
    with Papertape(settings) as app:
        app.ingest([warm], now=0.0)  # loads the models; not counted
        started = time.perf_counter()
        (result,) = app.ingest([memo], now=1.0)
        ours = time.perf_counter() - started
        heard = stored_text(app, result.memory_id)
    model = WhisperModel(
        str(model_folder(settings.transcriber, settings.models_dir)),
        device="cpu",
        compute_type="int8",
    )
    list(model.transcribe(str(warm), vad_filter=True)[0])  # warm-up
    started = time.perf_counter()
    pieces, _info = model.transcribe(
        str(memo),
        vad_filter=True,
        beam_size=5,
        condition_on_previous_text=False,
        word_timestamps=True,
    )
    list(pieces)
    alone = time.perf_counter() - started
    truth = words(" ".join(spoken))
    return {
        "sentences": len(spoken),
        "audio_s": round(seconds, 1),
        "memories": result.passages,
        "rtf_papertape": ours / seconds,
        "rtf_whisper": alone / seconds,
        "wer": edit_distance(truth, words(heard)) / len(truth),
        "heard": heard,
    }


def draw_screen(lines: list[str], clock: str, cursor: bool) -> Image.Image:
    image = Image.new("RGB", (1280, 720), (246, 246, 246))
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(18)
    draw.rectangle((0, 0, 1280, 36), fill=(40, 44, 52))
    draw.text((1160, 8), clock, font=font, fill=(230, 230, 230))
    for i, line in enumerate(lines):
        draw.text((40, 70 + 42 * i), line, font=font, fill=(25, 25, 25))
    if cursor:
        y = 70 + 42 * (len(lines) - 1)
        draw.rectangle(
            (
                40 + int(font.getlength(lines[-1])) + 4,
                y,
                50 + int(font.getlength(lines[-1])),
                y + 20,
            ),
            fill=(0, 0, 0),
        )
    return image


def bench_screens(tmp: Path, count: int, data: Path) -> dict[str, float]:
    turns = [t.text for c in load(data) for t in c.turns] if data.exists() else SENTENCES * 50
    screens = []
    for i in range(count):
        lines = [turns[(i * 14 + j) * 3 % len(turns)][:110] for j in range(12)]
        first = tmp / f"screen{i:02d}.png"
        again = tmp / f"screen{i:02d}-again.png"
        draw_screen(lines, f"10:{i:02d}", cursor=False).save(first)
        draw_screen(lines, f"10:{i + 1:02d}", cursor=True).save(again)
        screens.append((first, again, lines))
    settings = load_settings(tmp / "screen-home", env={})
    with Papertape(settings) as app:
        app.ocr  # noqa: B018
        app.embedder  # noqa: B018
        started = time.perf_counter()
        firsts = [app.ingest([first], now=1.0)[0] for first, _, _ in screens]
        ours = (time.perf_counter() - started) / count
        merged_distinct = count - len({r.memory_id for r in firsts})
        errors = chars = 0
        for result, (_, _, lines) in zip(firsts, screens, strict=True):
            stored = " ".join(stored_text(app, result.memory_id).split())
            truth = " ".join(" ".join(lines).split())
            errors += edit_distance(truth, stored)
            chars += len(truth)
        caught = sum(
            app.ingest([again], now=2.0)[0].status == "duplicate" for _, again, _ in screens
        )
        reader = app.ocr
        started = time.perf_counter()
        for first, _, _ in screens:
            with Image.open(first) as image:
                reader.read(np.asarray(image.convert("RGB")))
        alone = (time.perf_counter() - started) / count
    return {
        "screens": count,
        "s_per_frame_papertape": ours,
        "s_per_frame_rapidocr": alone,
        "char_accuracy": 1 - errors / chars,
        "near_duplicates_caught": caught / count,
        "distinct_merged": merged_distinct,
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    parser.add_argument("--sentences", type=int, default=12)
    parser.add_argument("--screens", type=int, default=10)
    common.add_data_option(parser)
    args = parser.parse_args()
    common.data_file(args.data, PROG)
    if shutil.which("espeak-ng") is None:
        sys.exit("bench_media: espeak-ng is needed to make the speech (apt-get install espeak-ng).")
    with tempfile.TemporaryDirectory() as tmp:
        audio = bench_audio(Path(tmp), args.sentences)
        screens = bench_screens(Path(tmp), args.screens, args.data)
    command = "python -m scripts.bench.media " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    print(common.header(command))
    print(
        f"\naudio: one {audio['audio_s']} s voice memo of {audio['sentences']} espeak-ng "
        f"sentences, 2.5 s apart; papertape made {audio['memories']} memories of it\n"
        f"| path | real-time factor |\n|---|---|\n"
        "| papertape ingest (whisper-base + grouping, embedding, storing) | "
        f"{audio['rtf_papertape']:.3f} |\n"
        f"| faster-whisper alone, same model and options | {audio['rtf_whisper']:.3f} |\n"
        f"ratio papertape / whisper alone: {audio['rtf_papertape'] / audio['rtf_whisper']:.2f}x; "
        f"word error rate of the stored text: {audio['wer']:.3f}\nheard: {audio['heard']}"
    )
    print(
        f"\nscreenshots: {screens['screens']} screens of 1280x720, 12 lines each\n"
        f"| path | seconds per frame |\n|---|---|\n"
        f"| papertape ingest (OCR, redaction, hash, thumbnail, embedding, storing) | "
        f"{screens['s_per_frame_papertape']:.3f} |\n"
        f"| rapidocr alone | {screens['s_per_frame_rapidocr']:.3f} |\n"
        f"ratio: {screens['s_per_frame_papertape'] / screens['s_per_frame_rapidocr']:.2f}x; "
        f"character accuracy of the stored text: {screens['char_accuracy']:.3f}; "
        f"near-duplicates caught: {screens['near_duplicates_caught']:.0%}; "
        f"distinct screens wrongly merged: {screens['distinct_merged']}"
    )


if __name__ == "__main__":
    main()
