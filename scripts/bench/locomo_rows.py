"""The rows of a LoCoMo answer run: reading them back, resuming a stopped run, and the summary
table."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from scripts.bench.common import percentile
from scripts.bench.locomo_data import (
    CATEGORIES,
)

METHODS = ("papertape", "full-context", "bm25", "vector")


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for method in METHODS:
        mine = [r for r in rows if r["method"] == method]
        if not mine:
            continue
        by_cat: dict[int, list[float]] = defaultdict(list)
        for r in mine:
            if r["f1"] is not None:
                by_cat[r["category"]].append(r["f1"])
        overall = [r["f1"] for r in mine if r["f1"] is not None and r["category"] != 5]
        recalls = [r["evidence_r10"] for r in mine if r["evidence_r10"] is not None]
        tokens = [r["prompt_tokens"] for r in mine if r["prompt_tokens"]]
        out[method] = {
            "f1": {str(c): sum(v) / len(v) for c, v in sorted(by_cat.items())},
            "f1_1to4": sum(overall) / len(overall) if overall else None,
            "evidence_r10": sum(recalls) / len(recalls) if recalls else None,
            "prompt_tokens": sum(tokens) / len(tokens) if tokens else 0,
            "p50_s": percentile([r["seconds"] for r in mine], 50),
            "p95_s": percentile([r["seconds"] for r in mine], 95),
            "questions": len(mine),
        }
    return out


def table(summary: dict[str, Any]) -> str:
    cats = [str(c) for c in CATEGORIES]
    lines = [
        "| method | questions | "
        + " | ".join(f"F1 {c} {CATEGORIES[int(c)]}" for c in cats)
        + " | F1 1-4 | evidence r@10 | prompt tokens | s p50 / p95 |",
        "|---|---|" + "---|" * (len(cats) + 4),
    ]
    for method, row in summary.items():
        f1s = " | ".join(f"{row['f1'][c]:.3f}" if c in row["f1"] else "-" for c in cats)
        overall = f"{row['f1_1to4']:.3f}" if row["f1_1to4"] is not None else "-"
        recall10 = f"{row['evidence_r10']:.3f}" if row["evidence_r10"] is not None else "-"
        lines.append(
            f"| {method} | {row['questions']} | {f1s} | {overall} | {recall10} | "
            f"{row['prompt_tokens']:.0f} | {row['p50_s']:.2f} / {row['p95_s']:.2f} |"
        )
    return "\n".join(lines)


def earlier_rows(
    path: Path | None,
    model: str,
    limit: int | None,
    context: int,
    retrieval_only: bool,
    methods: tuple[str, ...],
    offset: float = 0.0,
    changed: dict[str, str] | None = None,
    categories: list[int] | None = None,
) -> list[dict[str, Any]]:
    """Rows a stopped run with the same model, limit, offset, context, --set and --category
    left in `path`."""
    if path is None or not path.exists():
        return []
    rows = []
    for row in rows_in(path):
        tags = (row.get("model"), row.get("limit"), row.get("context"), row.get("offset", 0.0))
        same = (
            tags == (model, limit, context, offset)
            and row.get("set", {}) == (changed or {})
            and row.get("categories", []) == (categories or [])
        )
        if same and (row["f1"] is None) == retrieval_only and row["method"] in methods:
            rows.append(row)
    return rows


def rows_in(path: Path) -> list[dict[str, Any]]:
    """The rows of an --out file (JSON lines)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def read_questions(paths: list[Path]) -> dict[str, frozenset[str]]:
    """The questions earlier runs' rows hold, by conversation."""
    read: dict[str, set[str]] = defaultdict(set)
    for path in paths:
        for row in rows_in(path):
            read[row["conversation"]].add(row["question"])
    return {conv: frozenset(questions) for conv, questions in read.items()}
