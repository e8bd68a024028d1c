"""The answers of a run of scripts.bench.answers read back with their judged labels, for the
benchmarks that check answers already given (scripts/bench/whose.py, swap.py, support.py)."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from scripts.bench import common

LABELS = common.ROOT / "docs" / "answers" / "judged.jsonl"


def read_judged(
    rows_path: Path, labels_path: Path, version: str | None, prog: str
) -> tuple[list[dict[str, Any]], dict[str, str], str]:
    """The rows, each question id's label of `version` (default: the rows' own) and that
    version; refused in one sentence when either file cannot be read or holds none."""
    try:
        rows = [json.loads(line) for line in rows_path.read_text(encoding="utf-8").splitlines()]
        judged = [json.loads(line) for line in labels_path.read_text(encoding="utf-8").splitlines()]
    except (OSError, ValueError) as exc:
        common.refuse(prog, f"cannot read the rows or labels: {exc}.")
    if not rows:
        common.refuse(prog, f"{rows_path} holds no answers.")
    version = version or rows[0]["version"]
    labels = {r["id"]: r["label"] for r in judged if r["version"] == version}
    if not labels:
        common.refuse(prog, f"{labels_path} holds no labels of version {version!r}.")
    return rows, labels, version


def by_conversation(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The rows of each conversation, in conversation order."""
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[row["conversation"]].append(row)
    return dict(sorted(grouped.items()))


KINDS = ("adversarial", "judged right", "judged not right")


def kind_of(row: dict[str, Any], label: str | None) -> str:
    """What a check should do with the answer: decline an adversarial one (category 5), let
    one judged right pass, and the rest."""
    if row["category"] == 5:
        return "adversarial"
    return "judged right" if label == "CORRECT" else "judged not right"
