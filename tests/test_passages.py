from __future__ import annotations

import pytest

from agent.ingest.passages import split_passages, title_of


def words(text: str) -> list[str]:
    return text.split()


def test_short_text_is_one_passage() -> None:
    assert split_passages("  hello there  ", 100) == ["hello there"]
    assert split_passages("   ", 100) == []


@pytest.mark.parametrize("limit", [40, 100, 1000])
def test_long_text_keeps_every_word_within_the_limit(limit: int) -> None:
    paragraphs = [
        " ".join(f"word{p}_{i}." for i in range(n)) for p, n in enumerate([3, 40, 7, 120, 1])
    ]
    text = "\n\n".join(paragraphs) + "\n\n" + "x" * 250  # one unbroken run longer than limit
    passages = split_passages(text, limit)
    assert all(len(p) <= limit for p in passages)
    assert "".join(words(" ".join(passages))) == "".join(words(text))
    assert len(passages) > 1


def test_paragraphs_are_packed_not_split_needlessly() -> None:
    text = "one two.\n\nthree four.\n\n" + "five " * 30
    assert split_passages(text, 60)[0] == "one two.\n\nthree four."


def test_title_skips_blank_lines_and_heading_marks() -> None:
    assert title_of("\n\n## Trip to Lisbon\nday one", "fallback.md") == "Trip to Lisbon"
    assert title_of("   \n", "fallback.md") == "fallback.md"
