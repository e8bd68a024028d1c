"""Screenshots: read on the device, secrets blacked out, near-duplicates counted, not stored.

A screenshot is read by OCR (rapidocr, full detection), its lines merged in reading order.
Secrets (agent/redact) are looked for in all the lines as one text, so a private key block over
many lines is one secret, and are replaced in the text. In the picture each secret is covered
by a black box over the OCR boxes of the words that hold it (the whole line's box for a line
inside a secret, or one the reader could not place words in), a quarter of a line's height
wider on every side; the boxes are painted on the full image and again, scaled, on the
thumbnail (a WebP, 512 px at most, written from bare pixels: no metadata). The original image
is not kept. App and window names come from the PNG's text chunks ("app", "window": what
`papertape capture` writes) or, failing that, the file name; secrets in them are redacted too.
A frame whose perceptual hash (64-bit difference hash) is within 6 bits of a screenshot already
stored is the same screen: that memory's count and strength grow instead of a new row.
"""

from __future__ import annotations

import io
import json
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from agent.ingest.redact import redact_parts
from models.ocr import Box, OCRLine, OCRReader

# Pillow refuses images over twice this many pixels outright, and warns above it: both are
# refused here, from the header, before any pixel is decoded. An 8K screen is 33 million; a
# 59-million-pixel image took 14 s and 1.5 GB to read.
MAX_PIXELS = 40_000_000
THUMBNAIL_PX = 512
SAME_SCREEN_BITS = 6
# A hash match sees layout, not words or light (an all-black and an all-white screen both
# hash to 0): two screens are the same only if their thumbnails also differ by more than 48
# of 255 grey in at most 0.2 % of their pixels (a moved clock: 0.01 %; two editor screens
# of other text: 2 %; lossy WebP: 0).
SAME_PIXEL_GREY = 48
SAME_PIXELS_SHARE = 0.002
MARGIN = 0.25  # of a line's height, added around each black box


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


def same_pixels(thumbnail: bytes, image: Image.Image) -> bool:
    """Whether `image`, made a thumbnail as stored ones are, is the stored `thumbnail` but
    for a few pixels (a clock that moved). A hash match alone took two editor screens of
    different text for one, and the second screen's words were never read."""
    with Image.open(io.BytesIO(thumbnail)) as stored:
        old = np.asarray(stored.convert("L"), dtype=np.int16)
    small = image.convert("RGB")
    small.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
    new = np.asarray(small.convert("L"), dtype=np.int16)
    if old.shape != new.shape:
        return False
    return float((np.abs(old - new) > SAME_PIXEL_GREY).mean()) <= SAME_PIXELS_SHARE


def same_screen(info: dict[str, Any], seen: int) -> bool:
    """Whether a stored thumbnail's meta hashes within SAME_SCREEN_BITS of `seen`: the
    cheap first look, before `same_pixels` decodes the stored thumbnail."""
    return "dhash" in info and hamming(int(info["dhash"], 16), seen) <= SAME_SCREEN_BITS


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


def _placed_words(line: OCRLine) -> list[tuple[int, int, Box]]:
    """Where in the line's text each located word is; none if they cannot all be placed."""
    placed = []
    pos = 0
    for word in line.words:
        at = line.text.find(word.text, pos) if word.text else -1
        if at < 0:
            return []
        placed.append((at, at + len(word.text), word.box))
        pos = at + len(word.text)
    return placed


def secret_boxes(line: OCRLine, spans: Sequence[tuple[int, int]]) -> list[Box]:
    """Boxes, in image pixels, that cover the characters `spans` of `line`, with margin."""
    left, top, right, bottom = line.box
    pad = max(2, math.ceil(MARGIN * (bottom - top)))
    words = _placed_words(line)
    boxes = []
    for start, end in spans:
        hit = [box for s, e, box in words if s < end and e > start]
        whole_line = not line.text[:start].strip() and not line.text[end:].strip()
        if whole_line or not words:
            # No word boxes to go by: the span's share of the line, three characters wider on
            # each side (characters differ in width), or all of it.
            per_char = (right - left) / max(1, len(line.text))
            x0 = left if whole_line else max(left, int(left + (start - 3) * per_char))
            x1 = right if whole_line else min(right, math.ceil(left + (end + 3) * per_char))
            box = (x0, top, x1, bottom)
        elif hit:
            box = (
                min(b[0] for b in hit),
                min(top, *(b[1] for b in hit)),
                max(b[2] for b in hit),
                max(bottom, *(b[3] for b in hit)),
            )
        else:  # only spaces between words: nothing to hide
            continue
        boxes.append((box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad))
    return boxes


def paint(image: Image.Image, boxes: Sequence[Box], scale_x: float, scale_y: float) -> None:
    """Black boxes, scaled from the full image to `image`, rounded outwards by a pixel."""
    draw = ImageDraw.Draw(image)
    for x0, y0, x1, y1 in boxes:
        draw.rectangle(
            (
                max(0, math.floor(x0 * scale_x) - 1),
                max(0, math.floor(y0 * scale_y) - 1),
                min(image.width - 1, math.ceil(x1 * scale_x) + 1),
                min(image.height - 1, math.ceil(y1 * scale_y) + 1),
            ),
            fill=(0, 0, 0),
        )


def bare_webp(image: Image.Image) -> bytes:
    """The pixels as WebP and nothing else: no EXIF, XMP, ICC profile or text."""
    bare = Image.new("RGB", image.size)
    bare.paste(image.convert("RGB"))
    buffer = io.BytesIO()
    bare.save(buffer, format="WEBP", quality=60, method=6)
    return buffer.getvalue()


def read_screenshot(path: Path, reader: OCRReader, image: Image.Image | None = None) -> ScreenRead:
    """OCR, redaction and thumbnail of the screenshot at `path` (`image`: it, opened)."""
    image = image or open_image(path)
    names = redact_parts(names_of(image, path))
    rgb = image.convert("RGB")
    lines = reader.read(np.asarray(rgb))
    # One text, so a secret over several lines (a key block, a seed) is found whole.
    found = redact_parts([line.text for line in lines])
    boxes = [
        box
        for line, part in zip(lines, found, strict=True)
        for box in secret_boxes(line, part.spans)
    ]
    paint(rgb, boxes, 1.0, 1.0)
    thumb = rgb.copy()
    thumb.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
    # Again at the thumbnail's scale, so no secret pixel is left at a box's blurred edge.
    paint(thumb, boxes, thumb.width / rgb.width, thumb.height / rgb.height)
    return ScreenRead(
        text="\n".join(part.text for part in found if part.text.strip()),
        lines=sum(1 for part in found if part.text.strip()),
        redacted=sum(part.total for part in (*found, *names)),
        thumbnail=bare_webp(thumb),
        dhash=dhash(image),
        app=names[0].text,
        window=names[1].text,
        width=image.width,
        height=image.height,
    )
