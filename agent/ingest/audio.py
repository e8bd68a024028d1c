"""Audio memories: speech transcribed on the device, grouped by pauses into memories.

Whisper's segments (quiet stretches already dropped by voice-activity detection) are grouped
into one memory until a pause longer than `audio_pause_s` or a group longer than
`audio_memory_s` (30 s); each memory happens at the file's time plus its offset. A recording
that makes several memories gets a document row for the file, which keeps the detected
language, the segment times and, as `audio_keep` says, the original audio or an Opus copy.
A recording whose transcript held a secret (agent/redact) is never kept, whatever `audio_keep`
says: its redacted transcript and timings are.
"""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

from agent.memory.media import compress_audio
from agent.settings import Settings
from models.transcriber import Segment, Transcriber, Transcript, UnreadableAudioError
from storage import Blob

Progress = Callable[[int, int, str], None]


class AudioRejected(Exception):
    """One sentence on why this file gives no audio memory."""


def group_segments(
    segments: tuple[Segment, ...], pause_s: float, max_s: float
) -> list[list[Segment]]:
    groups: list[list[Segment]] = []
    for segment in segments:
        if groups:
            current = groups[-1]
            paused = segment.start - current[-1].end > pause_s
            too_long = segment.end - current[0].start > max_s
            if not paused and not too_long:
                current.append(segment)
                continue
        groups.append([segment])
    return groups


def transcribe_file(
    path: Path, transcriber: Transcriber, settings: Settings, progress: Progress | None
) -> Transcript:
    size = path.stat().st_size
    if size == 0:
        raise AudioRejected("is empty (zero-length audio)")
    if size > settings.max_audio_mb * 1_000_000:
        raise AudioRejected(
            f"is {size / 1e6:.0f} MB, over the {settings.max_audio_mb:.0f} MB limit for audio; "
            "raise max_audio_mb in config.toml"
        )

    def report(segment: Segment, duration: float) -> None:
        if progress:
            progress(int(segment.end), max(1, int(duration)), f"{path.name} (seconds heard)")

    try:
        transcript = transcriber.transcribe(path, on_segment=report)
    except UnreadableAudioError as exc:
        raise AudioRejected(str(exc)) from None
    if not transcript.segments:
        raise AudioRejected("holds no speech that could be heard")
    return transcript


def media_blob(
    path: Path,
    transcript: Transcript,
    groups: list[list[Segment]],
    keep: str,
    dropped_because: str = "",
) -> Blob:
    """The recording as kept with its memory, with what was heard where; none of it when
    `keep` is "drop" (`dropped_because` says why, when it was not the setting)."""
    info: dict[str, object] = {
        "language": transcript.language,
        "duration": round(transcript.duration, 3),
        "memories": [[round(g[0].start, 2), round(g[-1].end, 2)] for g in groups],
    }
    if dropped_because:
        info["dropped"] = dropped_because
    meta = json.dumps(info)
    if keep == "drop":
        return Blob(0, "media", "application/json", b"", meta)
    data = path.read_bytes()
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if keep == "compress":
        # a file PyAV decodes for Whisper but cannot re-encode: kept as it came
        with suppress(OSError, ValueError):
            data, media_type = compress_audio(data), "audio/ogg"
    return Blob(0, "media", media_type, data, meta)
