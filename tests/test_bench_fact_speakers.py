"""The speaker check measured on facts read by hand (scripts/bench/fact_speakers.py)."""

from __future__ import annotations

import json
from pathlib import Path

from scripts.bench.fact_speakers import LABELS, dropped, tally
from tests.bench_support import run_bench


def labelled(fact: str, attribution: str, sources: list[str]) -> dict[str, object]:
    return {"run": "r", "fact": fact, "sources": sources, "attribution": attribution}


ROWS = [
    labelled("Ana camped by the lake.", "RIGHT", ["Ana: We camped by the lake.", "Ben: Nice!"]),
    labelled("Ben camped by the lake.", "WRONG", ["Ana: We camped by the lake.", "Ben: Nice!"]),
    labelled("Ana took a photo of the tent.", "RIGHT", ["Ben: Ana, your photo of the tent!"]),
    labelled("We camped by the lake.", "NONE", ["Ana: We camped by the lake."]),
]


def test_the_check_drops_the_fact_told_of_the_other_speaker_only() -> None:
    assert dropped(ROWS) == [False, True, False, False]
    assert tally(ROWS, dropped(ROWS)) == {
        "NONE": {"kept": 1},
        "RIGHT": {"kept": 2},
        "WRONG": {"dropped": 1},
    }


def test_the_labels_file_is_there_and_the_script_reports_and_refuses(tmp_path: Path) -> None:
    rows = [json.loads(line) for line in LABELS.read_text(encoding="utf-8").splitlines()]
    assert {r["attribution"] for r in rows} <= {"RIGHT", "WRONG", "OTHER", "NONE"}
    small = tmp_path / "facts.jsonl"
    small.write_text("".join(json.dumps(r) + "\n" for r in ROWS), encoding="utf-8")
    ran = run_bench("fact_speakers", "--labels", str(small))
    assert ran.returncode == 0, ran.stderr
    assert "misattributed dropped: 1 of 1; right dropped: 0 of 2" in ran.stdout
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"fact": 1}\n', encoding="utf-8")
    refused = run_bench("fact_speakers", "--labels", str(bad))
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1
