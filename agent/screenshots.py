"""Screenshots: read on the device, secrets blacked out, near-duplicates counted, not stored.

A screenshot is read by OCR (rapidocr, full detection), its lines merged in reading order.
Secrets in a line (agent/redact.py) are replaced in the text and painted black in the image
before the thumbnail (a WebP, 512 px at most) is made; the original image is not kept. A
frame whose perceptual hash (64-bit difference hash) is within 6 bits of a screenshot already
stored is the same screen: that memory's count and strength grow instead of a new row.
App and window names come from the PNG's text chunks ("app", "window": what
`papertape capture` writes) or, failing that, the file name.
"""

from __future__ import annotations

import io
import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from agent.redact import redact
from models.ocr import OCRReader

# Pillow refuses images over twice this many pixels outright, and warns above it: both are
# refused here, from the header, before any pixel is decoded. An 8K screen is 33 million; a
# 59-million-pixel image took 14 s and 1.5 GB to read.
MAX_PIXELS = 40_000_000
THUMBNAIL_PX = 512
SAME_SCREEN_BITS = 6


class ImageRejected(Exception):
    """One sentence on why this file is not a usable image."""


@dataclass(frozen=True)
class ScreenRead:
    text: str
    lines: int
    redacted: int
    thumbnail: bytes
    dhash: int
    app: str
    window: str
    width: int
    height: int

    def meta(self, count: int = 1) -> str:
        return json.dumps(
            {
                "dhash": f"{self.dhash:016x}",
                "count": count,
                "app": self.app,
                "window": self.window,
                "size": [self.width, self.height],
                "lines": self.lines,
            }
        )


def _refuse(exc: Exception) -> ImageRejected:
    if isinstance(exc, Image.DecompressionBombError | Image.DecompressionBombWarning):
        return ImageRejected(
            f"is too large an image (over {MAX_PIXELS // 1_000_000} million pixels)"
        )
    return ImageRejected(f"is not a readable image ({exc})")


def open_image(path: Path) -> Image.Image:
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as probe:
                probe.verify()  # truncation and corruption show here
            image = Image.open(path)
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _refuse(exc) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise _refuse(exc) from None
    return image


def dhash(image: Image.Image) -> int:
    """64-bit difference hash: brighter-than-right-neighbour bits of a 9x8 grey thumbnail."""
    small = np.asarray(image.convert("L").resize((9, 8), Image.Resampling.LANCZOS), dtype=np.int16)
    bits = (small[:, 1:] > small[:, :-1]).flatten()
    return int("".join("1" if b else "0" for b in bits), 2)


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def names_of(image: Image.Image, path: Path) -> tuple[str, str]:
    info = image.info  # text chunks ahead of the pixels; reading them decodes nothing
    return str(info.get("app", "")), str(info.get("window", "")) or path.stem


def screen_names(path: Path) -> tuple[str, str]:
    """App and window of a screenshot file, read without decoding its pixels."""
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                return names_of(image, path)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _refuse(exc) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise _refuse(exc) from None


def read_screenshot(path: Path, reader: OCRReader) -> ScreenRead:
    image = open_image(path)
    app, window = names_of(image, path)
    rgb = image.convert("RGB")
    lines = reader.read(np.asarray(rgb))
    painted = ImageDraw.Draw(rgb)
    texts = []
    redacted = 0
    for line in lines:
        cleaned = redact(line.text)
        texts.append(cleaned.text)
        redacted += cleaned.total
        left, top, right, bottom = line.box
        width = max(1, right - left)
        for start, end in cleaned.spans:
            # The secret's share of the line, widened by two characters either side.
            per_char = width / max(1, len(line.text))
            x0 = max(left, int(left + (start - 2) * per_char))
            x1 = min(right, int(left + (end + 2) * per_char))
            painted.rectangle((x0, top - 2, x1, bottom + 2), fill=(0, 0, 0))
    thumb = rgb.copy()
    thumb.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
    buffer = io.BytesIO()
    thumb.save(buffer, format="WEBP", quality=60, method=6)
    return ScreenRead(
        text="\n".join(t for t in texts if t.strip()),
        lines=len(lines),
        redacted=redacted,
        thumbnail=buffer.getvalue(),
        dhash=dhash(image),
        app=app,
        window=window,
        width=image.width,
        height=image.height,
    )
