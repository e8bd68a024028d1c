"""The OCR Reader protocol: text and line boxes read from an image, in reading order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from models.errors import UnknownModelError
from models.names import closest_hint

# (left, top, right, bottom) in pixels.
Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class OCRWord:
    text: str
    box: Box


@dataclass(frozen=True)
class OCRLine:
    text: str
    box: Box
    score: float
    # Where each word (each character, in scripts without spaces) of the line is, when the
    # reader knows: what a secret in part of a line is covered by.
    words: tuple[OCRWord, ...] = ()


@runtime_checkable
class OCRReader(Protocol):
    name: str

    def read(self, image: np.ndarray, boxes: Sequence[Box] | None = None) -> list[OCRLine]:
        """Lines of text in `image` (H x W x 3 uint8 RGB). With `boxes`, only recognition runs,
        one line per box, in the order given; without, lines are found first."""
        ...


def reading_order(lines: Sequence[OCRLine]) -> list[OCRLine]:
    """Top to bottom, then left to right; lines whose middles are within half a line height
    of each other count as one row."""
    if not lines:
        return []
    height = float(np.median([line.box[3] - line.box[1] for line in lines])) or 1.0

    def row_key(line: OCRLine) -> tuple[int, int]:
        middle = (line.box[1] + line.box[3]) / 2
        return int(middle // max(1.0, height / 2)), line.box[0]

    return sorted(lines, key=row_key)


def _registry() -> dict[str, Any]:
    from models.rapid_ocr import RapidOCRReader

    return {"rapidocr": RapidOCRReader}


def load_reader(name: str = "rapidocr") -> OCRReader:
    registry = _registry()
    if name not in registry:
        raise UnknownModelError(
            f"there is no OCR reader called {name!r}; valid: {', '.join(sorted(registry))}."
            + closest_hint(name, registry)
        )
    reader: OCRReader = registry[name].load()
    return reader
