"""Careless or hostile input: a sentence and an exit code, never a hang, a forged line or a
traceback; nothing written that should not be."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from agent.service import Papertape
from models.ocr import Box, OCRLine
from tests.conftest import NOW

CLI_NOW = "2024-03-01T12:00:00Z"


def test_a_fifo_in_a_folder_is_skipped_with_a_reason(home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "ok.txt").write_text("a fine note beside a pipe")
    os.mkfifo(folder / "pipe")
    env = {**os.environ, "PAPERTAPE_HOME": str(home), "PAPERTAPE_EMBEDDER": "fake"}
    # The timeout only guards the suite: before, reading the FIFO waited for ever.
    done = subprocess.run(
        [sys.executable, "-m", "agent.cli", "ingest", str(folder), "--now", CLI_NOW],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done
    assert "stored" in done.stdout
    assert "ok.txt" in done.stdout
    assert "pipe" in done.stderr
    assert "FIFO" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_unreadable_subfolder_is_reported(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "in"
    (folder / "locked").mkdir(parents=True)
    (folder / "ok.txt").write_text("a note beside a locked folder")
    (folder / "locked" / "inner.txt").write_text("never seen")
    real = os.scandir

    def scandir(path):
        # What chmod 000 does for any user but root (the tests run as root).
        if Path(path) == folder / "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    result = cli("ingest", str(folder), "--now", CLI_NOW)
    assert result.code == 2, result
    assert "ok.txt" in result.out
    (line,) = [line for line in result.err.splitlines() if "locked" in line]
    assert "cannot be read" in line
    assert "permission denied" in line


def test_a_file_name_cannot_forge_a_line_of_the_listing(cli, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "real.txt\n#99  stored  forged.txt").write_text("a note with a crafted name")
    result = cli("ingest", str(folder), "--now", CLI_NOW)
    assert result.code == 0, result
    assert len(result.out.strip().splitlines()) == 1
    assert "#99" not in result.out.splitlines()[0][:4]
    assert "real.txt\\x0a#99" in result.out


def test_recall_shows_control_characters_as_escapes(cli) -> None:
    cli("note", "ring\x07 the bell\x08\x08\x08 now\x1b[2J please", "--now", CLI_NOW)
    result = cli("recall", "ring bell", "--now", CLI_NOW)
    assert result.code == 0
    assert not any(c in result.out for c in "\x07\x08\x1b")
    assert "ring\\x07 the bell\\x08\\x08\\x08 now\\x1b[2J please" in result.out
    # --json was already escaped by the encoder, and keeps the text as it is.
    data = json.loads(cli("recall", "ring bell", "--json", "--now", CLI_NOW).out)
    assert data["results"][0]["text"] == "ring\x07 the bell\x08\x08\x08 now\x1b[2J please"


@pytest.mark.parametrize("command", [("note", "-"), ("ingest", "-")])
def test_stdin_that_is_not_utf8_is_a_sentence(
    cli, monkeypatch: pytest.MonkeyPatch, command: tuple[str, str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"caf\xe9 \xff\xfe au lait")))
    result = cli(*command, "--now", CLI_NOW)
    assert result.code == 2, result
    assert "not UTF-8" in result.err
    assert "unexpected" not in result.err
    assert cli("stats", "--json").out.count('"memories": 0') == 1


def exported(cli, tmp_path: Path) -> dict:
    cli("note", "a note to export", "--now", CLI_NOW)
    out = tmp_path / "x.jsonl"
    cli("export", "-o", str(out))
    line, _ = out.read_text().splitlines()  # the memory, and the store's last line
    return dict(json.loads(line))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": -3}, "at least 1"),
        ({"id": 0}, "at least 1"),
        ({"strength": float("inf")}, "finite"),
        ({"strength": float("nan")}, "finite"),
        ({"importance": float("nan")}, "finite"),
        ({"recall_count": -1}, "at least 0"),
        ({"text": "a note to export, changed"}, "content hash does not match"),
        ({"content_hash": "not-a-hash"}, "not a sha256"),
    ],
)
def test_import_refuses_what_no_export_holds(
    cli,
    tmp_path: Path,
    change: dict,
    message: str,
) -> None:
    record = {**exported(cli, tmp_path), **change}
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(record) + "\n")  # json writes Infinity and NaN as Python reads
    other = tmp_path / "other"
    result = cli("import", str(bad), "--home", str(other))
    assert result.code == 2, result
    assert "line 1" in result.err
    assert message in result.err
    assert '"memories": 0' in cli("stats", "--json", "--home", str(other)).out


def test_a_misspelt_environment_variable_is_refused(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERTAPE_RECAL_K", "5")
    result = cli("stats")
    assert result.code == 2, result
    assert "PAPERTAPE_RECAL_K" in result.err
    assert "PAPERTAPE_RECALL_K" in result.err
    monkeypatch.delenv("PAPERTAPE_RECAL_K")
    # The variables that are not settings stay valid.
    monkeypatch.setenv("PAPERTAPE_NOW", CLI_NOW)
    monkeypatch.setenv("PAPERTAPE_RECALL_K", "5")
    assert cli("note", "dated by PAPERTAPE_NOW").code == 0
    assert cli("stats").code == 0


def test_forget_without_a_terminal_needs_yes(cli) -> None:
    cli("note", "keep me unless told plainly", "--now", CLI_NOW)
    assert not sys.stdin.isatty()  # as with `echo n | papertape forget 1`
    refused = cli("forget", "1")
    assert refused.code == 2
    assert "--yes" in refused.err
    assert "1 memories" in cli("stats").out
    assert cli("forget", "1", "--yes").code == 0
    assert "0 memories" in cli("stats").out


class CountingReader:
    """An OCR reader registered in place of the real one; it counts full reads."""

    name = "counting"

    def __init__(self) -> None:
        self.reads = 0

    def read(self, image: np.ndarray, boxes: Sequence[Box] | None = None) -> list[OCRLine]:
        self.reads += 1
        return [OCRLine("Quarterly report draft, revenue up 12 percent", (10, 10, 400, 30), 0.9)]


def test_the_same_screenshot_again_is_not_read_again(app: Papertape, tmp_path: Path) -> None:
    from tests.test_screenshots import screen

    reader = CountingReader()
    app.__dict__["ocr"] = reader  # the service's cached reader
    lines = ["Quarterly report draft", "Revenue up 12 percent"]
    (one,) = app.ingest([screen(tmp_path / "a.png", lines)], now=NOW)
    (two,) = app.ingest([screen(tmp_path / "b.png", lines)], now=NOW + 60)
    assert (one.status, two.status, two.memory_id) == ("stored", "duplicate", one.memory_id)
    assert reader.reads == 1


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (("recall", "x", "-k", "99999999999999999999"), {}, "-k must be from 1 to 1000"),
        (("note", "--at", "0001-01-01", "x"), {}, "it is too far from today"),
        (("stats", "--home", "/proc/papertape-nope"), {}, "cannot keep papertape's data in"),
        (("stats", "--home", ""), {}, "--home is empty"),
        (("stats",), {"PAPERTAPE_HOME": ""}, "PAPERTAPE_HOME is set but empty"),
    ],
)
def test_out_of_range_input_is_a_sentence(
    cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, args: tuple, env: dict, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = cli(*args)
    assert result.code == 2, result
    assert message in result.err
    assert "unexpected" not in result.err
    assert list(tmp_path.iterdir()) == []  # no store made in the current folder


def test_a_link_out_of_a_folder_is_not_followed(cli, tmp_path: Path) -> None:
    outside = tmp_path / "private.txt"
    outside.write_text("the server's root password notes")
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "mine.txt").write_text("the plumber comes on Thursday")
    (folder / "inside.txt").symlink_to(folder / "mine.txt")  # within the folder: read
    (folder / "link.txt").symlink_to(outside)
    result = cli("ingest", str(folder), "--json")
    found = {Path(r["path"]).name: r for r in json.loads(result.out)["results"]}
    statuses = {name: r["status"] for name, r in found.items()}
    assert statuses == {"inside.txt": "stored", "link.txt": "rejected", "mine.txt": "duplicate"}
    assert "outside the folder" in found["link.txt"]["reason"]
    assert cli("ingest", str(folder / "link.txt")).code == 0  # given by name: followed
