"""consolidate, stats and recall --deep through the real entry point."""

from __future__ import annotations

import difflib
import json
from datetime import UTC, datetime, timedelta

import pytest

from agent.service import Papertape
from agent.settings import load_settings
from models.fake_embedder import FakeEmbedder
from tests.conftest import distil
from tests.tiny_gguf import write_tiny_gguf

START = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)
TOPICS = [
    "Weekly call with Mum about the allotment and the {n} new seed trays.",
    "Read {n} pages of the history of Venice; the Arsenale built a galley a day.",
    "Ran {n} km along the canal path; the left knee felt fine afterwards.",
]


def fill_a_year(home) -> None:
    settings = load_settings(home, overrides={"embedder": "fake"})
    with Papertape(settings, embedder=FakeEmbedder()) as app:
        for week in range(52):
            at = (START + timedelta(weeks=week)).timestamp()
            for offset, topic in enumerate(TOPICS):
                text = topic.format(n=week + 3 + offset)
                app.note(text, now=at + 600 * offset, occurred_at=at + 600 * offset)


def stats(cli) -> dict:
    result = cli("stats", "--json")
    assert result.code == 0, result.err
    return json.loads(result.out)


def test_a_year_aged_month_by_month_fills_the_tiers_and_shrinks(cli, home) -> None:
    monkey_env = {"PAPERTAPE_SUMMARIZER": "extractive"}
    import os

    os.environ.update(monkey_env)
    try:
        fill_a_year(home)
        before = stats(cli)
        assert before["tiers"]["sharp"]["count"] == 156
        for month in range(1, 13):
            now = (START + timedelta(days=30 * month + 5)).isoformat()
            result = cli("consolidate", "--now", now)
            assert result.code == 0, result.err
            assert "Consolidated at" in result.out
            assert "Bytes:" in result.out
        after = stats(cli)
    finally:
        os.environ.pop("PAPERTAPE_SUMMARIZER")
    tiers = after["tiers"]
    assert tiers["sharp"]["count"] > 0
    assert tiers["hazy"]["count"] > 0
    assert tiers["archive"]["count"] > 100  # most of the year is archived
    assert after["kinds"]["summary"]["count"] > 0
    assert after["bytes"] < 0.5 * before["bytes"]


def test_consolidate_json_and_list(cli) -> None:
    for i in range(3):
        cli("note", f"Booked the {i} ferry tickets to Skye.", "--now", f"2024-01-01T10:0{i}")
    result = cli("consolidate", "--now", "2024-03-01", "--extractive", "--json")
    data = json.loads(result.out)
    assert data["now"] == "2024-03-01T00:00:00Z"
    assert data["summarizer"] == "extractive"
    assert [m["to"] for m in data["moves"]] == ["hazy"] * 3
    assert set(data["moves"][0]) == {"id", "from", "to", "reason", "retention"}
    assert len(data["summaries"]) == 1
    assert data["bytes_before"] > 0
    text = cli("consolidate", "--now", "2024-11-01", "--extractive", "--list")
    assert "hazy -> archive" in text.out
    assert "#1" in text.out


@pytest.mark.needs("rapidocr")
def test_recall_deep_reads_the_page_back(cli) -> None:
    # Two sentences each: their words leave for a gist, so the episode's summary gets a page.
    cli(
        "note",
        "The spare key is under the blue flowerpot. It is by the shed.",
        "--now",
        "2024-01-01",
    )
    cli("note", "The shed door sticks. Lift it, then turn the key.", "--now", "2024-01-01T00:05")
    with Papertape(load_settings(), embedder=FakeEmbedder()) as app:
        distil(app, [1, 2], "The spare key is by the shed.")  # their words may now leave
    summaries = json.loads(cli("consolidate", "--now", "2024-03-01", "--extractive", "--json").out)[
        "summaries"
    ]
    with Papertape(load_settings(), embedder=FakeEmbedder()) as app:
        summary = app.store.get(summaries[0])
    assert summary is not None
    data = json.loads(
        cli("recall", "spare key flowerpot", "--deep", "--json", "--now", "2024-03-02").out
    )
    (hit,) = [h for h in data["results"] if h["id"] == summary.id]
    assert hit["tier"] == "hazy"
    assert hit["read_back"] is True
    # OCR of an 8 px page is close, not perfect ("ftowerpot" was seen): compare characters.
    assert difflib.SequenceMatcher(None, summary.text, hit["text"]).ratio() >= 0.9, hit["text"]
    plain = json.loads(cli("recall", "spare key", "--json", "--now", "2024-03-02").out)
    assert all("read_back" not in hit for hit in plain["results"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("consolidate", "--now", "yesterday-ish"), "cannot read --now"),
        (("consolidate", "--model", "no-such-model"), "no-such-model"),
    ],
)
def test_bad_input_is_one_sentence(cli, args, message) -> None:
    result = cli(*args)
    assert result.code == 2
    assert message in result.err
    assert "Traceback" not in result.err


def test_a_bad_setting_word_is_refused(cli, monkeypatch) -> None:
    monkeypatch.setenv("PAPERTAPE_PAGE_FORMAT", "gif")
    result = cli("consolidate", "--now", "2024-01-01")
    assert result.code == 2
    assert "png4" in result.err


@pytest.mark.needs("llama_cpp")
def test_the_model_loading_is_said_before_the_wait(cli, tmp_path) -> None:
    cli("note", "Booked the ferry tickets to Skye.")
    model = write_tiny_gguf(tmp_path / "m.gguf")
    with_model = cli("consolidate", "--model", str(model))
    assert with_model.code == 0, with_model.err
    assert with_model.err.startswith(f"loading the language model {model}…\n")
    assert "loading" not in cli("consolidate", "--extractive").err
