"""Media as memories fade: images shrink to small grey WebP, audio is re-encoded as Opus.

PyAV (the `audio` extra; faster-whisper brings it too) is imported only when audio is there to
compress, so a text-only install never loads it.
"""

from __future__ import annotations

import io
import logging
from dataclasses import replace

from PIL import Image

from agent.errors import Failure
from storage import MemoryStore

THUMBNAIL_PX = 256
OPUS_BITRATE = 16_000  # speech stays intelligible at 16 kb/s mono

log = logging.getLogger(__name__)


def downscale_image(data: bytes, max_px: int = THUMBNAIL_PX) -> bytes:
    """A small greyscale WebP of the image."""
    with Image.open(io.BytesIO(data)) as image:
        small = image.convert("L")
        small.thumbnail((max_px, max_px))
        buffer = io.BytesIO()
        small.save(buffer, format="WEBP", quality=50, method=6)
    return buffer.getvalue()


def compress_audio(data: bytes, bitrate: int = OPUS_BITRATE) -> bytes:
    """The audio as mono Opus in an Ogg file."""
    try:
        import av
    except ImportError as exc:
        raise Failure(
            "compressing audio needs PyAV: run scripts/setup, or pip install 'papertape[audio]'."
        ) from exc
    out_buffer = io.BytesIO()
    with av.open(io.BytesIO(data), "r") as source, av.open(out_buffer, "w", format="ogg") as sink:
        stream = sink.add_stream("libopus", rate=48_000)
        stream.bit_rate = bitrate
        stream.layout = "mono"
        resampler = av.AudioResampler(format="s16", layout="mono", rate=48_000)
        for frame in source.decode(audio=0):
            for resampled in resampler.resample(frame):
                sink.mux(stream.encode(resampled))
        for resampled in resampler.resample(None):
            sink.mux(stream.encode(resampled))
        sink.mux(stream.encode(None))
    return out_buffer.getvalue()


def shrink_media(store: MemoryStore, memory_id: int, hazy_audio: str) -> None:
    """Images shrink to a small grey WebP; audio becomes Opus, or is kept or dropped, as
    hazy_audio says."""
    for blob in store.blobs_of(memory_id):
        if blob.role == "page":
            continue
        try:
            if blob.media_type.startswith("audio/") and blob.media_type != "audio/ogg":
                if hazy_audio == "drop":
                    store.drop_blob(memory_id, blob.role)
                elif hazy_audio == "compress":
                    smaller = compress_audio(blob.data)
                    if len(smaller) < len(blob.data):
                        store.put_blob(replace(blob, media_type="audio/ogg", data=smaller))
            elif blob.media_type.startswith("image/") and blob.media_type != "image/webp":
                smaller = downscale_image(blob.data)
                if len(smaller) < len(blob.data):
                    store.put_blob(replace(blob, media_type="image/webp", data=smaller))
        except (OSError, ValueError, Failure) as exc:  # damaged media stays as it was
            log.warning("memory %d: its %s could not be shrunk (%s)", memory_id, blob.role, exc)
