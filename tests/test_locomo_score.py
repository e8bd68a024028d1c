"""LoCoMo's answer metric against examples worked out by hand."""

from __future__ import annotations

import pytest

from scripts.bench.locomo_score import abstains, f1, f1_multi, normalise, score, tokens


def test_normalise_drops_case_punctuation_and_articles() -> None:
    assert normalise("The Cat, and a DOG!") == "cat dog"
    assert tokens("Running races") == ["run", "race"]  # Porter stems


def test_f1_by_hand() -> None:
    # prediction: went, to, lisbon, in, march (5); reference: lisbon, march, 2023 (3)
    # common 2 -> precision 2/5, recall 2/3 -> F1 = 2 * 0.4 * 0.667 / 1.067 = 0.5
    assert f1("went to Lisbon in March", "Lisbon, March 2023") == pytest.approx(0.5)
    assert f1("the paintings", "painting") == 1.0  # articles go, stems meet
    assert f1("nothing alike", "entirely different") == 0.0


def test_multi_hop_averages_the_best_match_per_reference_part() -> None:
    # reference parts: "pottery", "camping"; prediction parts: "pottery", "swimming"
    # pottery -> 1.0 ; camping -> 0.0 ; mean 0.5
    assert f1_multi("pottery, swimming", "pottery, camping") == 0.5
    assert score("pottery, swimming", "pottery, camping", 1) == 0.5


def test_open_domain_uses_the_first_alternative() -> None:
    assert score("liberal", "Liberal; progressive", 3) == 1.0
    assert score("progressive", "Liberal; progressive", 3) == 0.0


def test_adversarial_scores_abstention() -> None:
    assert abstains("No information available about that.")
    assert score("Not mentioned in the conversation", "anything", 5) == 1.0
    assert score("She went to Paris", "anything", 5) == 0.0
