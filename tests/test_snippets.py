"""What recall prints: a long text at the part the query matched, and a word when no memory
holds the query's words."""

from __future__ import annotations

from pathlib import Path

from agent.snippets import around

LEASE = (
    "The lease runs from June to May and the flat is let unfurnished. " * 6
    + "The late fee is 50 euros after the fifth day of the month. "
    + "Pets are allowed with the landlord's consent. " * 6
)


def test_the_cut_falls_where_the_query_words_are() -> None:
    shown = around(LEASE, "late fee", 80)
    assert len(shown) == 80
    assert "The late fee is 50 euros" in shown
    assert shown.startswith("…")
    assert shown.endswith("…")


def test_the_start_is_shown_when_it_fits_or_nothing_matches() -> None:
    assert around("Dentist on Thursday\n at 3pm", "dentist", 80) == "Dentist on Thursday at 3pm"
    shown = around(LEASE, "parking permit", 80)
    assert shown.startswith("The lease runs from June")
    assert len(shown) == 80


def test_the_window_holds_most_of_the_query_not_its_first_word() -> None:
    text = "fee " + "x " * 100 + "the late fee is 50 euros " + "y " * 100
    assert "late fee is 50" in around(text, "late fee euros", 60)


def test_scripts_without_spaces_are_cut_at_their_words_too() -> None:
    text = "我们在北京住了三年。" * 10 + "我妈妈的生日是五月六日。" + "天气很好。" * 10
    assert "妈妈的生日是五月六日" in around(text, "妈妈的生日", 30)


def test_recall_prints_a_long_passage_at_its_match(cli, tmp_path: Path) -> None:
    lease = tmp_path / "lease.txt"
    lease.write_text(LEASE)
    assert cli("ingest", str(lease)).code == 0
    printed = cli("recall", "late fee", "--mode", "keyword").out
    assert "The late fee is 50 euros" in printed


def test_recall_says_when_no_memory_holds_the_words(cli) -> None:
    cli("note", "The spare key is under the blue flowerpot.")
    assert "No memory holds these words" in cli("recall", "quorvex").out
    assert "No memory holds these words" not in cli("recall", "flowerpot").out
    assert "No memory holds these words" not in cli("recall", "quorvex", "--mode", "vector").out
