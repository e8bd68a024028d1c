"""Pages rendered with Pillow and read back by the real OCR model (rapidocr, PP-OCRv6)."""

from __future__ import annotations

import difflib
import io

import pytest
from PIL import Image

from agent.memory.pages import FORMATS, read_page, render_page, wrap
from models.ocr import OCRLine, load_reader, reading_order

TEXT = (
    "Met Priya at the Oakwood library on 14 March to plan the garden project.\n"
    "She will bring 12 tomato seedlings; I owe her 35 euros for the soil."
)


@pytest.fixture(scope="module")
def reader():
    return load_reader("rapidocr")


def accuracy(expected: str, got: str) -> float:
    return difflib.SequenceMatcher(None, expected, got).ratio()


def test_wrap_fits_the_width_and_marks_paragraphs() -> None:
    lines, ends = wrap(TEXT, 8, 200)
    assert len(lines) > 2
    assert ends[-1] == len(lines) - 1
    assert len(ends) == 2
    assert " ".join(lines).split() == TEXT.split()
    lines, _ = wrap("x" * 500, 8, 100)  # one word wider than the page is cut, not lost
    assert "".join(lines) == "x" * 500
    assert len(lines) > 1


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_format_decodes_to_the_stored_size(fmt: str) -> None:
    page = render_page(TEXT, fmt=fmt)
    with Image.open(io.BytesIO(page.data)) as image:
        assert image.size == (page.width, page.height)
    assert len(page.boxes) == len(wrap(TEXT, page.font_px, 512 - 4)[0])


@pytest.mark.needs("rapidocr")
def test_a_page_reads_back_through_ocr(reader) -> None:
    page = render_page(TEXT)  # the defaults: 8 px, 4-grey PNG
    back = read_page(reader, page.data, page.meta())
    assert accuracy(TEXT, back) >= 0.95, back
    assert "\n" in back  # the paragraph break survives


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="png4"):
        render_page("x", fmt="gif")


def test_reading_order_is_rows_then_columns() -> None:
    lines = [
        OCRLine("right", (200, 0, 300, 10), 1.0),
        OCRLine("below", (0, 30, 100, 40), 1.0),
        OCRLine("left", (0, 1, 100, 11), 1.0),
    ]
    assert [line.text for line in reading_order(lines)] == ["left", "right", "below"]


@pytest.mark.needs("rapidocr")
def test_full_detection_finds_lines_without_boxes(reader) -> None:
    page = render_page(TEXT, font_px=16, fmt="png16")
    with Image.open(io.BytesIO(page.data)) as image:
        found = reader.read(__import__("numpy").asarray(image.convert("RGB")))
    assert accuracy(" ".join(TEXT.split()), " ".join(line.text for line in found)) >= 0.9
