"""Limits (issue 31, item 7): every setting's range, the size of a note on stdin, and the
pixels of an image, each refused with one sentence before any harm is done."""

from __future__ import annotations

import io
from dataclasses import fields
from pathlib import Path

import pytest
from PIL import Image

from agent.errors import UserError
from agent.ingest.screenshots import ImageRejected, open_image, screen_names
from agent.settings import RANGES, Settings, load_settings


@pytest.mark.parametrize(
    ("line", "name", "valid"),
    [
        ("recall_k = 0", "recall_k", "at least 1 and at most 1,000"),
        ("hazy_below = 2.0", "hazy_below", "at least 0 and at most 1"),
        ("archive_below = nan", "archive_below", "at least 0 and at most 1"),
        ("retention_weight = inf", "retention_weight", "at least 0 and at most 100"),
        ("recall_k = -inf", "recall_k", "at least 1"),
        ("byte_budget_mb = 0.001", "byte_budget_mb", "0 (off) or at least 1"),
        ("passage_chars = 0", "passage_chars", "at least 100"),
        ("base_strength_days = 0", "base_strength_days", "above 0"),
        ("max_request_mb = 0", "max_request_mb", "above 0"),
        ("client_timeout_s = 0", "client_timeout_s", "at least 0.1"),
        ("recall_k = 2.5", "recall_k", "a whole number"),
        ("rate_importance = 'sometimes'", "rate_importance", "true or false"),
    ],
)
def test_a_setting_out_of_range_is_one_sentence_and_exit_2(
    cli, home: Path, line: str, name: str, valid: str
) -> None:
    home.mkdir(parents=True)
    (home / "config.toml").write_text(line + "\n")
    result = cli("stats")
    assert result.code == 2
    assert name in result.err, result.err
    assert valid in result.err, result.err
    assert len(result.err.strip().splitlines()) == 1
    assert "Traceback" not in result.err
    assert not (home / "papertape.db").exists()  # refused before the store was touched


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0", "1e400", "many"])
def test_the_environment_is_held_to_the_same_ranges(value: str) -> None:
    with pytest.raises(UserError, match="recall_k must be"):
        load_settings(Path("/nonexistent"), env={"PAPERTAPE_RECALL_K": value})


def test_every_numeric_setting_has_a_range_its_default_is_in() -> None:
    defaults = Settings(home=Path("/nowhere"))
    numeric = [f.name for f in fields(Settings) if type(getattr(defaults, f.name)) in (int, float)]
    assert sorted(numeric) == sorted(RANGES)
    for name in numeric:
        assert RANGES[name].holds(getattr(defaults, name)), name


def test_ranges_still_take_what_people_set(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(
        "byte_budget_mb = 0\nretention_days = 0\ninbox_every_seconds = 0\nrecall_k = 5.0\n"
        "vector_min_spread = 0\nrate_importance = false\n"
    )
    settings = load_settings(tmp_path, env={"PAPERTAPE_HAZY_BELOW": "0.3"})
    assert (settings.byte_budget_mb, settings.retention_days, settings.recall_k) == (0, 0, 5)
    assert settings.hazy_below == 0.3
    assert settings.rate_importance is False


def test_the_answer_must_leave_room_in_the_context(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"answer_tokens .* must be below context_tokens"):
        load_settings(tmp_path, overrides={"context_tokens": 512, "answer_tokens": 512}, env={})


class EndlessStdin:
    """A pipe that never ends (`yes | papertape note -`), counting what was asked of it."""

    def __init__(self) -> None:
        self.asked = 0
        self.buffer = self

    def read(self, size: int = -1) -> bytes:
        size = 200_000 if size < 0 else size  # "all of it": more than the limit
        self.asked += size
        return (b"y\n" * (size // 2 + 1))[:size]


def test_a_note_on_stdin_is_refused_past_the_limit_unread(
    cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERTAPE_MAX_REQUEST_MB", "0.01")  # 10 KB
    stdin = EndlessStdin()
    monkeypatch.setattr("sys.stdin", stdin)
    result = cli("note", "-")
    assert result.code == 2
    assert "max_request_mb" in result.err
    assert stdin.asked <= 10_001  # read up to the limit and no further
    monkeypatch.setattr("sys.stdin", EndlessStdin())
    assert cli("ingest", "-").code == 2
    monkeypatch.setattr("sys.stdin", io.StringIO("a short note\n"))
    assert cli("note", "-").out.strip() == "1"
    long_argument = cli("note", "word " * 5000)  # 25 KB
    assert long_argument.code == 2
    assert "max_request_mb" in long_argument.err
    assert cli("stats", "--json").out.count('"count": 1') >= 1


def test_a_note_on_stdin_must_be_utf8(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"caf\xe9 au lait\n")))
    result = cli("note", "-")
    assert result.code == 2
    assert "UTF-8" in result.err


def test_an_image_over_the_pixel_cap_is_refused_before_decoding(tmp_path: Path) -> None:
    path = tmp_path / "huge.png"
    Image.new("L", (8000, 5200)).save(path)  # 41.6 million pixels: over any real screen
    for reader in (screen_names, open_image):
        with pytest.raises(ImageRejected, match="too large an image"):
            reader(path)
    small = tmp_path / "screen.png"
    Image.new("RGB", (7680, 4320)).save(small)  # an 8K screen is taken
    assert open_image(small).size == (7680, 4320)
