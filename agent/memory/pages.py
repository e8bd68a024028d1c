"""Optical pages: an episode summary's text rendered into a small grayscale image, and read back.

When an episode goes hazy, its summary is written and also rendered into a page (DeepSeek-OCR's
"optical compression"): one image an episode, the hazy tier's optical copy. The archive drops
the page unless archive_page = "keep" (then it holds the summary once the byte budget has cut
the summary's own text to its gist). The line
boxes are stored with the page, so reading it back runs OCR recognition alone on known
lines, not detection. Font size and format are the ones scripts/bench/optical.py measured
best (docs/BENCHMARKS.md): a page costs more bytes than the zlib-compressed text it shows
(about 6x at 8 px); what it saves is vision tokens for a model that reads images, nothing
else.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from models.ocr import Box, OCRReader
from storage import Blob

# Page encodings compared by scripts/bench/optical.py: palette PNGs with 4 and 16 grey levels,
# lossless and lossy WebP, JPEG.
FORMATS = {
    "png4": "image/png",
    "png16": "image/png",
    "webp": "image/webp",
    "webp-q40": "image/webp",
    "jpeg": "image/jpeg",
}
DEFAULT_FONT_PX = 8
DEFAULT_FORMAT = "png4"
MARGIN = 2
LINE_GAP = 2  # pixels between lines, so recognition crops do not cut into neighbours


@dataclass(frozen=True)
class Page:
    data: bytes
    media_type: str
    width: int
    height: int
    boxes: tuple[Box, ...]
    paragraph_ends: tuple[int, ...]  # indices of lines that end a paragraph
    font_px: int

    def meta(self) -> str:
        return json.dumps(
            {
                "width": self.width,
                "height": self.height,
                "font_px": self.font_px,
                "boxes": [list(box) for box in self.boxes],
                "paragraph_ends": list(self.paragraph_ends),
            }
        )

    def blob(self, memory_id: int) -> Blob:
        """The page as the blob stored with `memory_id`, under the role "page"."""
        return Blob(memory_id, "page", self.media_type, self.data, self.meta())


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont:
    # Pillow's built-in scalable font: the same glyphs on every machine, no font file to find.
    font = ImageFont.load_default(size)
    if not isinstance(font, ImageFont.FreeTypeFont):
        raise RuntimeError("this Pillow was built without FreeType; reinstall it from its wheel.")
    return font


def wrap(text: str, font_px: int, width_px: int) -> tuple[list[str], list[int]]:
    """Lines that fit `width_px`, and the indices of lines that end a paragraph."""
    font = _font(font_px)
    lines: list[str] = []
    ends: list[int] = []
    for paragraph in text.split("\n"):
        current = ""
        for word in paragraph.split():
            candidate = f"{current} {word}" if current else word
            if font.getlength(candidate) <= width_px:
                current = candidate
                continue
            if current:
                lines.append(current)
            while font.getlength(word) > width_px:  # a word wider than the page is cut
                cut = max(1, int(len(word) * width_px / font.getlength(word)))
                lines.append(word[:cut])
                word = word[cut:]
            current = word
        lines.append(current)
        ends.append(len(lines) - 1)
    return lines, ends


def render_page(
    text: str, *, font_px: int = DEFAULT_FONT_PX, width_px: int = 512, fmt: str = DEFAULT_FORMAT
) -> Page:
    """Render `text` (already cleaned) into a grayscale page with its line boxes."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown page format {fmt!r}; valid: {', '.join(FORMATS)}")
    font = _font(font_px)
    lines, ends = wrap(text, font_px, width_px - 2 * MARGIN)
    ascent, descent = font.getmetrics()
    line_height = ascent + descent + LINE_GAP
    widest = max((int(font.getlength(line)) for line in lines), default=1)
    width = min(width_px, widest + 2 * MARGIN + 1)
    height = line_height * len(lines) + 2 * MARGIN
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    boxes: list[Box] = []
    for index, line in enumerate(lines):
        top = MARGIN + index * line_height
        draw.text((MARGIN, top + LINE_GAP // 2), line, font=font, fill=0)
        boxes.append((0, top, width, top + line_height))
    return Page(
        data=encode_image(image, fmt),
        media_type=FORMATS[fmt],
        width=width,
        height=height,
        boxes=tuple(boxes),
        paragraph_ends=tuple(ends),
        font_px=font_px,
    )


def encode_image(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    if fmt == "png4":
        # Black text on white reads back as well from 4 grey levels as from 256 (measured):
        # the anti-aliased edges survive, and each pixel costs 2 bits before compression.
        image.quantize(4).save(buffer, format="PNG", optimize=True, bits=2)
    elif fmt == "png16":
        image.quantize(16).save(buffer, format="PNG", optimize=True, bits=4)
    elif fmt == "webp":
        image.save(buffer, format="WEBP", lossless=True, method=6)
    elif fmt == "webp-q40":
        image.save(buffer, format="WEBP", quality=40, method=6)
    else:
        image.save(buffer, format="JPEG", quality=75, optimize=True)
    return buffer.getvalue()


def page_from_blob(data: bytes, meta: str) -> tuple[np.ndarray, dict[str, Any]]:
    info = json.loads(meta)
    with Image.open(io.BytesIO(data)) as image:
        pixels = np.asarray(image.convert("RGB"))
    return pixels, info


def read_page(reader: OCRReader, data: bytes, meta: str) -> str:
    """The page's text, read back by OCR recognition on its stored line boxes."""
    pixels, info = page_from_blob(data, meta)
    boxes = [tuple(int(v) for v in box) for box in info["boxes"]]
    lines = reader.read(pixels, boxes)  # type: ignore[arg-type]
    ends = set(info.get("paragraph_ends", []))
    parts: list[str] = []
    for index, line in enumerate(lines):
        parts.append(line.text)
        if index < len(lines) - 1:
            parts.append("\n" if index in ends else " ")
    return "".join(parts).strip()
