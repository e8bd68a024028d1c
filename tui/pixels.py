"""An image drawn in the terminal with half blocks: each cell shows two pixels, one above the
other, as the foreground and background colours of '▀'."""

from __future__ import annotations

import io

from PIL import Image
from rich.text import Text


def half_blocks(data: bytes, width: int = 76) -> Text:
    with Image.open(io.BytesIO(data)) as image:
        grey = image.convert("L")
        scale = min(1.0, width / grey.width)
        size = (max(1, int(grey.width * scale)), max(2, int(grey.height * scale)))
        small = grey.resize(size, Image.Resampling.LANCZOS)
    pixels = small.load()
    text = Text()
    for top in range(0, small.height - 1, 2):
        for x in range(small.width):
            upper, lower = pixels[x, top], pixels[x, top + 1]  # type: ignore[index]
            text.append("▀", style=f"rgb({upper},{upper},{upper}) on rgb({lower},{lower},{lower})")
        text.append("\n")
    return text
