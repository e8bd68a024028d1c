"""Media as memories fade: images shrink to small grey WebP, audio is re-encoded as Opus.

PyAV (the `audio` extra; faster-whisper brings it too) is imported only when audio is there to
compress, so a text-only install never loads it.
"""

from __future__ import annotations

import io

from PIL import Image

from agent.errors import Failure

THUMBNAIL_PX = 256
OPUS_BITRATE = 16_000  # speech stays intelligible at 16 kb/s mono


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
