#!/usr/bin/env python3
"""Which note does a question land on? MiniLM (the baseline) against e5-small, on personal notes
in several languages.

Both never-stored sets (tests/data/unstored_questions.json and unstored_heldout.json, each
written blind to the code) are notes with questions. For each question whose answer a note
holds (`stored`), the rank of that note among its case's notes by the question's cosine (the
question read on the query side where the embedder has one), apart for questions asked in
the notes' language and in another. And how well the question's best cosine to any note
separates stored questions from those on a topic never noted (AUC: 1 separates them
perfectly, 0.5 is chance), what `is_about` (agent/answer/check.py) leans on. No language
model is used. LoCoMo's recall by embedder is `scripts.bench.recall --set embedder=NAME`.

    python -m scripts.bench.embedders [--embedder NAME ...]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from models.embedder import Embedder, embed_query, load_embedder
from models.errors import ModelError
from scripts.bench import common
from scripts.bench.unstored import CASES, HELD_OUT, load_cases

PROG = common.command_name(__file__)


def note_ranks(embedder: Embedder, cases: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Ranks of the answering note (same language, other language) and the AUC."""
    ranks: dict[str, list[int]] = {"same": [], "other": []}
    best: dict[str, list[float]] = {"stored": [], "absent_topic": []}
    for case in cases:
        notes = [note["text"] for note in case["notes"]]
        vectors = embedder.embed(notes)
        for question in case["questions"]:
            cosines = vectors @ embed_query(embedder, question["q"])
            if question["kind"] in best:
                best[question["kind"]].append(float(cosines.max()))
            if question["kind"] != "stored":
                continue
            values = [value.casefold() for value in question["answer"]]
            holding = [i for i, t in enumerate(notes) if any(v in t.casefold() for v in values)]
            if not holding:
                continue
            asked_in = question.get("q_language", case["language"])
            side = "same" if asked_in == case["language"] else "other"
            ranks[side].append(1 + int((cosines > cosines[holding].max()).sum()))
    stored, absent = best["stored"], best["absent_topic"]
    auc = sum((a < s) + 0.5 * (a == s) for a in absent for s in stored) / (
        len(absent) * len(stored)
    )
    return {"ranks": ranks, "auc": auc}


def first(ranks: list[int]) -> str:
    return f"{sum(r == 1 for r in ranks)} of {len(ranks)}"


def main() -> None:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    parser.add_argument(
        "--embedder", action="append", default=[], help="repeatable (default: minilm, e5-small)"
    )
    args = parser.parse_args()
    names = args.embedder or ["minilm", "e5-small"]
    sets = {"set 1": load_cases(CASES), "set 2": load_cases(HELD_OUT)}
    print(common.header("python -m scripts.bench.embedders " + " ".join(sys.argv[1:])))
    print(
        "| embedder | set | note ranked first, same language | another language "
        "| AUC stored vs never noted |"
    )
    print("|---|---|---|---|---|")
    for name in names:
        try:
            embedder = load_embedder(name)
        except ModelError as exc:  # not installed, unknown: one sentence, not a traceback
            common.refuse(PROG, str(exc))
        for label, cases in sets.items():
            result = note_ranks(embedder, cases)
            print(
                f"| {name} | {label} | {first(result['ranks']['same'])} "
                f"| {first(result['ranks']['other'])} | {result['auc']:.3f} |"
            )


if __name__ == "__main__":
    main()
