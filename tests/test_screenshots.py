"""Screenshots through the real OCR model: read, redacted in text and pixels, deduplicated."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont
from PIL.PngImagePlugin import PngInfo

from agent.ingest import pipeline
from agent.ingest.screenshots import (
    SAME_SCREEN_BITS,
    bare_webp,
    dhash,
    hamming,
    paint,
    read_screenshot,
    secret_boxes,
)
from agent.service import Papertape
from models.ocr import OCRLine, OCRWord
from tests.conftest import NOW

KEY = "AKIAQ7X2MPL3RT5VW9ZD"


def screen(
    path: Path,
    lines: list[str],
    *,
    app: str = "",
    window: str = "",
    size: int = 22,
    width: int = 900,
) -> Path:
    font = ImageFont.load_default(size)
    image = Image.new("RGB", (width, 60 + 40 * len(lines)), (250, 250, 250))
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((30, 30 + 40 * i), line, font=font, fill=(20, 20, 20))
    info = PngInfo()
    if app:
        info.add_text("app", app)
    if window:
        info.add_text("window", window)
    image.save(path, format="PNG", pnginfo=info)
    return path


@pytest.mark.needs("rapidocr")
def test_a_screenshot_becomes_a_memory_with_a_thumbnail(app: Papertape, tmp_path: Path) -> None:
    shot = screen(
        tmp_path / "s.png",
        ["Flight BA117 to New York boards at gate 22", "Seat 14C, departs 18:45"],
        app="Mail",
        window="Your boarding pass",
    )
    (result,) = app.ingest([shot], now=NOW)
    assert result.status == "stored"
    memory = app.store.get(result.memory_id)  # type: ignore[arg-type]
    assert memory is not None
    assert memory.kind == "screenshot"
    assert "BA117" in memory.text
    assert "gate 22" in memory.text
    assert "14C" in memory.text
    thumb = app.store.blob(memory.id, "thumbnail")
    assert thumb is not None
    assert thumb.media_type == "image/webp"
    assert '"app": "Mail"' in thumb.meta
    assert '"window": "Your boarding pass"' in thumb.meta
    hits = app.recall("which gate does the flight board at", now=NOW, strengthen=False)
    assert hits[0].memory.id == memory.id


@pytest.mark.needs("rapidocr")
def test_the_same_screen_twice_is_one_memory_seen_twice(app: Papertape, tmp_path: Path) -> None:
    lines = ["Quarterly report draft", "Revenue up 12 percent"]
    first = screen(tmp_path / "a.png", lines)
    again = screen(tmp_path / "b.png", lines)  # the same pixels under another name
    (one,) = app.ingest([first], now=NOW)
    before = app.store.get(one.memory_id).strength  # type: ignore[arg-type, union-attr]
    (two,) = app.ingest([again], now=NOW + 60)
    assert (two.status, two.memory_id) == ("duplicate", one.memory_id)
    assert app.store.count() == 1
    assert app.store.get(one.memory_id).strength > before  # type: ignore[arg-type, union-attr]
    assert '"count": 2' in app.store.blob(one.memory_id, "thumbnail").meta  # type: ignore[arg-type, union-attr]


@pytest.mark.needs("rapidocr")
def test_screens_alike_in_edges_and_not_in_light_are_two(app: Papertape, tmp_path: Path) -> None:
    shots = []
    for name, colour in (("white", "white"), ("black", "black"), ("white2", "white")):
        Image.new("RGB", (400, 200), colour).save(tmp_path / f"{name}.png")
        shots.append(tmp_path / f"{name}.png")
    white, black, white_again = (app.ingest([shot], now=NOW)[0] for shot in shots)
    assert white.status == black.status == "stored"  # both hash to 0: the pixels tell them apart
    assert (white_again.status, white_again.memory_id) == ("duplicate", white.memory_id)


@pytest.mark.needs("rapidocr")
def test_screens_of_one_layout_and_other_words_are_two(app: Papertape, tmp_path: Path) -> None:
    pages = (
        [f"Flight LH44{i} departs 09:4{i} from gate B1{i}" for i in range(6)],
        [f"Invoice 223{i} is due on {i + 1} March in Oslo" for i in range(6)],
    )
    shots = [screen(tmp_path / f"{i}.png", lines) for i, lines in enumerate(pages)]
    with Image.open(shots[0]) as first, Image.open(shots[1]) as second:
        assert hamming(dhash(first), dhash(second)) <= SAME_SCREEN_BITS  # alike to the hash
    results = [app.ingest([shot], now=NOW)[0] for shot in shots]
    assert [r.status for r in results] == ["stored", "stored"]
    assert "LH441" in app.store.get(results[0].memory_id).text  # type: ignore[arg-type, union-attr]
    assert "2231" in app.store.get(results[1].memory_id).text  # type: ignore[arg-type, union-attr]


@pytest.mark.needs("rapidocr")
def test_a_key_on_screen_never_reaches_the_store(app: Papertape, tmp_path: Path) -> None:
    shot = screen(
        tmp_path / "k.png", ["Deploy settings", f"AWS_ACCESS_KEY_ID={KEY}", "Region eu-west-2"]
    )
    (result,) = app.ingest([shot], now=NOW)
    assert result.redacted >= 1
    memory = app.store.get(result.memory_id)  # type: ignore[arg-type]
    assert memory is not None
    assert KEY not in memory.text
    assert "[redacted" in memory.text
    assert "eu-west-2" in memory.text
    # Not in the stored picture either: OCR of the thumbnail finds no trace of it.
    thumb = app.store.blob(memory.id, "thumbnail")
    assert thumb is not None
    with Image.open(io.BytesIO(thumb.data)) as small:
        big = small.convert("RGB").resize((small.width * 2, small.height * 2))
    seen = " ".join(line.text for line in app.ocr.read(np.asarray(big)))
    assert "Region" in seen
    assert "AKIA" not in seen
    assert "MPL3" not in seen
    app.store.checkpoint()
    assert KEY.encode() not in app.settings.store_path.read_bytes()


@pytest.mark.needs("rapidocr")
def test_bad_images_are_refused_with_a_sentence(cli, tmp_path: Path) -> None:
    good = screen(tmp_path / "good.png", ["hello"])
    truncated = tmp_path / "cut.png"
    truncated.write_bytes(good.read_bytes()[:200])
    bomb = tmp_path / "bomb.png"
    Image.new("1", (10_000, 7_000)).save(bomb)
    blank = tmp_path / "blank.png"
    Image.new("RGB", (400, 200), "white").save(blank)
    result = cli("ingest", str(truncated), str(bomb))
    assert result.code == 2
    assert "Traceback" not in result.err
    assert "cut.png is not a readable image" in result.err
    assert "bomb.png is too large an image" in result.err
    stored = cli("ingest", str(blank))  # no text: kept as an image memory by default
    assert stored.code == 0
    assert "stored" in stored.out
    assert cli("recall", "screenshot blank", "--json").out.count('"screenshot"') == 1


@pytest.mark.needs("rapidocr")
def test_a_blank_screen_prints_no_log_lines_of_the_ocr_engine(tmp_path: Path) -> None:
    blank = tmp_path / "blank.png"
    Image.new("RGB", (400, 200), "white").save(blank)
    env = {**os.environ, "PAPERTAPE_HOME": str(tmp_path / "home"), "PAPERTAPE_EMBEDDER": "fake"}
    result = subprocess.run(
        [sys.executable, "-m", "agent.cli", "ingest", str(blank)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "stored" in result.stdout
    assert "RapidOCR" not in result.stderr
    assert "\x1b[" not in result.stderr


@pytest.mark.needs("rapidocr")
def test_a_folder_of_images_shows_each_one_read(app: Papertape, tmp_path: Path) -> None:
    folder = tmp_path / "shots"
    folder.mkdir()
    screen(folder / "a.png", ["Quarterly report draft", "Revenue up 12 percent"])
    screen(folder / "b.png", ["Boarding pass", "Flight BA117", "Gate 22", "Seat 14C"])
    (folder / "c.txt").write_text("a note beside them")
    seen: list[tuple[int, int, str]] = []
    results = app.ingest([folder], now=NOW, progress=lambda *call: seen.append(call))
    assert [r.status for r in results] == ["stored"] * 3
    assert seen[:2] == [(1, 2, "read a.png"), (2, 2, "read b.png")]


@pytest.mark.needs("rapidocr")
def test_a_folder_stopped_while_read_keeps_the_images_read_so_far(
    app: Papertape, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "shots"
    folder.mkdir()
    screen(folder / "a.png", ["Quarterly report draft", "Revenue up 12 percent"])
    screen(folder / "b.png", ["Boarding pass", "Flight BA117", "Gate 22", "Seat 14C"])
    (folder / "c.txt").write_text("a note beside them")
    stopping = [True]

    def stopped_at_b(path: Path, reader: Any, image: Any = None) -> Any:
        if stopping and path.name == "b.png":
            raise KeyboardInterrupt  # Ctrl-C while OCR reads the second image
        return read_screenshot(path, reader, image)

    monkeypatch.setattr(pipeline, "read_screenshot", stopped_at_b)
    with pytest.raises(KeyboardInterrupt):
        app.ingest([folder], now=NOW)
    assert [m.text for m in app.store.iter_memories("sharp")] == [
        "Quarterly report draft\nRevenue up 12 percent"
    ]
    stopping.clear()
    again = app.ingest([folder], now=NOW + 60)  # run again: a.png is known by its hash alone
    assert [r.status for r in again] == ["duplicate", "stored", "stored"]
    assert app.store.count() == 3


@pytest.mark.needs("rapidocr")
def test_blank_screens_can_be_skipped(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERTAPE_SCREENSHOTS_WITHOUT_TEXT", "skip")
    blank = tmp_path / "blank.png"
    Image.new("RGB", (400, 200), "white").save(blank)
    result = cli("ingest", str(blank))
    assert result.code == 2
    assert "has no text" in result.err


@pytest.mark.needs("rapidocr")
def test_excluded_apps_windows_and_folders_are_never_read(
    cli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PAPERTAPE_EXCLUDE_APPS", "1password, keychain*")
    monkeypatch.setenv("PAPERTAPE_EXCLUDE_WINDOWS", "private browsing")
    private = tmp_path / "private"
    private.mkdir()
    monkeypatch.setenv("PAPERTAPE_EXCLUDE_FOLDERS", str(private))
    vault = screen(tmp_path / "v.png", ["vault item: bank login"], app="1Password")
    chain = screen(tmp_path / "k.png", ["certificate list"], app="Keychain Access")
    window = screen(tmp_path / "w.png", ["some page"], window="Site - Private Browsing")
    (private / "diary.txt").write_text("a private diary line")
    kept = screen(tmp_path / "ok.png", ["Team lunch at noon"], app="Calendar")
    result = cli("ingest", str(vault), str(chain), str(window), str(private), str(kept))
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert sum(line.startswith("excluded ") for line in lines) == 4
    assert sum(" stored " in line for line in lines) == 1
    assert "exclude_apps (1Password)" in result.out
    assert "exclude_folders" in result.out
    stats = cli("stats", "--json").out
    assert '"memories": 1' in stats


def test_capture_without_a_display_is_one_sentence(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    import platform

    if platform.system() == "Darwin":
        pytest.skip("macOS always has a display")
    monkeypatch.delenv("DISPLAY", raising=False)
    result = cli("capture")
    assert result.code == 2
    assert "no display to capture" in result.err


GHP = "ghp_" + "Xk7Qm2Rv9Tz4Lw8Np3Hs6Jd1Fb5Gc0Ya8UeW2"
GLPAT = "glpat-" + "Vn4Kq8Rt2Wm6Zp9Xs3Yd"
KEY_LINES = [
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW",
    "QyNTUxOQAAACDxk2c5bXQ9rVg3Vw8pL1mN0oQ7sT2uX4yZ6aB8cD0eFgAAAJgH3kLmB9",
    "Rj5Wq1Ze7Ty3Ui9Op2As6Df0Gh4Jk8Lz5Xc1Vb7Nm3Qw9Er2Ty6Ui0Op4As8Df1Gh5",
]
PGP_LINES = ["lQOYBGVkZmQBCADF7cS3Tn0Pq5Vz1Wm8Xr4Yk2Lh6Jg9Fd3Sa7Qe1Rt5Yu0Ii4Oo8"]


def readable(app: Papertape, data: bytes) -> str:
    """What OCR reads in a stored thumbnail, at its size and enlarged twice."""
    with Image.open(io.BytesIO(data)) as small:
        rgb = small.convert("RGB")
    seen = []
    for scale in (1, 2):
        image = rgb.resize((rgb.width * scale, rgb.height * scale), Image.Resampling.LANCZOS)
        seen += [line.text for line in app.ocr.read(np.asarray(image))]
    return " ".join(seen)


def riff_chunks(data: bytes) -> list[bytes]:
    assert data[:4] == b"RIFF"
    assert data[8:12] == b"WEBP"
    chunks, pos = [], 12
    while pos + 8 <= len(data):
        size = int.from_bytes(data[pos + 4 : pos + 8], "little")
        chunks.append(data[pos : pos + 4])
        pos += 8 + size + size % 2
    return chunks


@pytest.mark.needs("rapidocr")
def test_keys_and_tokens_on_screen_cannot_be_read_back(app: Papertape, tmp_path: Path) -> None:
    lines = [
        "Deploy settings for the billing service",
        f"export GITHUB_TOKEN={GHP}",
        f"gitlab: {GLPAT} (rotate in May)",
        "-----BEGIN OPENSSH PRIVATE KEY-----",
        *KEY_LINES,
        "-----END OPENSSH PRIVATE KEY-----",
        "-----BEGIN PGP PRIVATE KEY BLOCK-----",
        *PGP_LINES,
        "-----END PGP PRIVATE KEY BLOCK-----",
        "Region eu-west-2 and the staging cluster",
    ]
    shot = screen(
        tmp_path / "deploy.png",
        lines,
        app="Terminal",
        window=f"ssh deploy@ci - GITHUB_TOKEN={GHP}",
        width=1200,
    )
    (result,) = app.ingest([shot], now=NOW)
    assert result.status == "stored", result.reason
    memory = app.store.get(result.memory_id)  # type: ignore[arg-type]
    assert memory is not None
    assert "eu-west-2" in memory.text
    thumb = app.store.blob(memory.id, "thumbnail")
    assert thumb is not None
    seen = readable(app, thumb.data)
    # The OCR can read the thumbnail: the ordinary lines come back.
    assert "Region" in seen, seen
    assert "billing" in seen, seen
    squeezed = seen.replace(" ", "")
    for secret in (GHP, GLPAT, *KEY_LINES, *PGP_LINES):
        for piece in (secret[4:12], secret[12:20], secret[-8:]):  # any 8 characters of it
            assert piece not in squeezed, (piece, seen)
    # Nor in the bytes kept: text, source, the thumbnail's metadata, its file.
    stored = memory.text + memory.source + thumb.meta
    for secret in (GHP, GLPAT, *KEY_LINES, *PGP_LINES):
        assert secret not in stored
        assert secret.encode() not in thumb.data
    assert '"app": "Terminal"' in thumb.meta
    assert "[redacted github token]" in thumb.meta
    assert set(riff_chunks(thumb.data)) <= {b"VP8 ", b"VP8L"}  # pixels only, no metadata
    app.store.checkpoint()
    # Every file of the store (main, cold, write-ahead log); the home also holds model files.
    files = sorted(app.settings.home.glob("papertape*"))
    assert app.settings.store_path in files
    home_bytes = b"".join(p.read_bytes() for p in files)
    assert GHP.encode() not in home_bytes
    assert KEY_LINES[0].encode() not in home_bytes


@pytest.mark.needs("rapidocr")
def test_a_token_in_the_file_name_is_not_the_source(app: Papertape, tmp_path: Path) -> None:
    shot = screen(tmp_path / f"clip {GHP}.png", ["Weekly planning notes"])
    (result,) = app.ingest([shot], now=NOW)
    memory = app.store.get(result.memory_id)  # type: ignore[arg-type]
    assert memory is not None
    assert GHP not in memory.source
    assert "[redacted" in memory.source
    thumb = app.store.blob(memory.id, "thumbnail")
    assert thumb is not None
    assert GHP not in thumb.meta


def test_boxes_cover_the_words_that_hold_a_secret_with_margin() -> None:
    words = (
        OCRWord("export", (10, 100, 90, 130)),
        OCRWord("TOKEN=abc", (100, 100, 300, 130)),
        OCRWord("now", (310, 100, 410, 130)),
    )
    line = OCRLine("export TOKEN=abc now", (10, 100, 410, 130), 1.0, words)
    start = line.text.index("abc")
    pad = 8  # a quarter of the line's 30 px, rounded up
    assert secret_boxes(line, [(start, start + 3)]) == [(100 - pad, 92, 300 + pad, 138)]
    assert secret_boxes(line, [(0, len(line.text))]) == [(10 - pad, 92, 410 + pad, 138)]
    # Words the reader could not place: the span's share of the line, 3 characters wider.
    unplaced = OCRLine(line.text, line.box, 1.0)
    per_char = 400 / len(line.text)
    x0, x1 = int(10 + (start - 3) * per_char), int(10 + (start + 6) * per_char)
    assert secret_boxes(unplaced, [(start, start + 3)]) == [(x0 - pad, 92, x1 + pad, 138)]


def test_boxes_are_scaled_to_the_thumbnail_and_rounded_outwards() -> None:
    thumb = Image.new("RGB", (100, 50), "white")
    paint(thumb, [(101, 51, 299, 149)], 0.25, 0.25)  # 25.25..74.75 x 12.75..37.25
    pixels = np.asarray(thumb)
    assert (pixels[11:39, 24:76] == 0).all()
    assert (pixels[:, 77:] == 255).all()
    assert (pixels[:10] == 255).all()


def test_a_thumbnail_is_written_without_metadata() -> None:
    image = Image.new("RGB", (64, 32), "white")
    image.info["icc_profile"] = b"profile"
    exif = Image.Exif()
    exif[0x010E] = GHP  # an image description holding a token
    image.info["exif"] = exif.tobytes()
    data = bare_webp(image)
    assert set(riff_chunks(data)) <= {b"VP8 ", b"VP8L"}
    assert GHP.encode() not in data
