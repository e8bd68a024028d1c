"""rapidocr 3 on onnxruntime: PP-OCRv6 detection and recognition, models inside the wheel.

The bundled model files are checked against pinned sha256 digests before first use, like every
other model papertape runs.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from models.errors import ChecksumError, MissingModelError, MissingRuntimeError
from models.ocr import Box, OCRLine, OCRWord, reading_order
from models.offline import no_ipv6_probe

log = logging.getLogger(__name__)

RAPIDOCR_PIN = "rapidocr==3.10.0"
# The files of rapidocr 3.10.0 that papertape uses (detection, recognition).
MODEL_SHA256 = {
    "PP-OCRv6_det_small.onnx": "090f04abcd9d9a7498bc4ebf677e4cb9bdce1fe4197ddb7e529f1ef44e1ff94f",
    "PP-OCRv6_rec_small.onnx": "6f327246b50388f3c176ae304bd95767ea6dc0c9ae92153ef8cbe210b3c14884",
}


def _runtime() -> Any:
    try:
        import rapidocr
    except ImportError as exc:
        raise MissingRuntimeError(
            f"OCR needs rapidocr: run scripts/setup, or pip install 'papertape[ocr]' "
            f"({RAPIDOCR_PIN})."
        ) from exc
    return rapidocr


def _verify_models(package_dir: Path) -> None:
    for name, digest in MODEL_SHA256.items():
        path = package_dir / "models" / name
        if not path.exists():
            raise MissingModelError(
                f"rapidocr's model {name} is missing: pip install --force-reinstall {RAPIDOCR_PIN}."
            )
        if hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            raise ChecksumError(
                f"rapidocr's model {name} does not match its pinned sha256: "
                f"pip install --force-reinstall {RAPIDOCR_PIN}."
            )


class RapidOCRReader:
    name = "rapidocr"

    def __init__(self, engine: Any) -> None:
        self._engine = engine

    @classmethod
    def load(cls) -> RapidOCRReader:
        with no_ipv6_probe():  # the engine's imports would open a socket (models/offline.py)
            rapidocr = _runtime()
            _verify_models(Path(rapidocr.__file__).parent)
            # Its warnings are outcomes papertape reports itself in one sentence ("no text
            # found" for a blank image), printed raw with colour codes on stderr otherwise.
            logging.getLogger("RapidOCR").setLevel(logging.ERROR)
            engine = rapidocr.RapidOCR(params={"Global.log_level": "error"})
        return cls(engine)

    def read(self, image: np.ndarray, boxes: Sequence[Box] | None = None) -> list[OCRLine]:
        rgb = _as_rgb(image)
        if boxes is not None:
            return [self._recognise(rgb, box) for box in boxes]
        # Each stage named: the engine keeps the stages of its previous call otherwise.
        result = self._engine(rgb, use_det=True, use_cls=True, use_rec=True, return_word_box=True)
        if result.txts is None:
            return []
        words = result.word_results
        if not words or len(words) != len(result.txts):
            words = ((),) * len(result.txts)
        lines = []
        for points, text, score, line_words in zip(
            result.boxes, result.txts, result.scores, words, strict=True
        ):
            located = _words(line_words)
            lines.append(OCRLine(str(text), _bounds(points), float(score), located))
        return reading_order(lines)

    def _recognise(self, rgb: np.ndarray, box: Box) -> OCRLine:
        left, top, right, bottom = box
        crop = np.ascontiguousarray(rgb[top:bottom, left:right])
        if crop.size == 0:
            return OCRLine("", box, 0.0)
        result = self._engine(crop, use_det=False, use_cls=False, use_rec=True)
        if not result.txts:
            return OCRLine("", box, 0.0)
        return OCRLine(str(result.txts[0]), box, float(result.scores[0]))


def _words(found: Any) -> tuple[OCRWord, ...]:
    """(text, score, four points) for each word, as rapidocr gives them when it could place
    every word of the image; anything else gives no words, and callers use the line's box."""
    try:
        return tuple(OCRWord(str(text), _bounds(points)) for text, _score, points in found or ())
    except (TypeError, ValueError, IndexError):
        return ()


def _bounds(points: Any) -> Box:
    xs = [int(p[0]) for p in points]
    ys = [int(p[1]) for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def _as_rgb(image: np.ndarray) -> np.ndarray:
    array = np.asarray(image, dtype=np.uint8)
    if array.ndim == 2:
        array = np.stack([array] * 3, axis=-1)
    return np.ascontiguousarray(array[..., :3])
