"""Recorded model replies, and a LoCoMo run judged again from them (scripts/replies.py,
scripts/locomo_replay.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bench_locomo import ABSTAIN
from replies import Recording, Replaying

from models.fake_generator import ScriptedGenerator
from models.generator import generate

SPOKEN = [
    ("Ann", "D1:1", "I adopted a cat named Pixel."),
    ("Ben", "D1:2", "My dog Rex hates cats."),
]


def test_a_recording_keeps_every_reply_and_a_replay_gives_them_back_in_order() -> None:
    recording = Recording(ScriptedGenerator(["Pixel [1]", "It is Pixel."]))
    assert generate(recording, "first", max_tokens=20) == "Pixel [1]"
    assert generate(recording, "second", max_tokens=20) == "It is Pixel."
    assert recording.replies == ["Pixel [1]", "It is Pixel."]

    replaying = Replaying(ScriptedGenerator(["never used"]), recording.replies)
    assert generate(replaying, "a", max_tokens=20) == "Pixel [1]"
    assert generate(replaying, "b", max_tokens=20) == "It is Pixel."
    assert not replaying.exhausted
    assert generate(replaying, "c", max_tokens=20) == ""
    assert replaying.exhausted
    # Tokens are counted by the real model, so prompts are fitted as the run fitted them.
    assert replaying.count_tokens("one two three") == ScriptedGenerator().count_tokens(
        "one two three"
    )


def locomo_file(tmp_path: Path) -> Path:
    turns = [{"speaker": s, "dia_id": d, "text": t} for s, d, t in SPOKEN]
    sample = {
        "sample_id": "conv-t",
        "conversation": {"session_1_date_time": "1:56 pm on 8 May, 2023", "session_1": turns},
        "qa": [],
    }
    data = tmp_path / "tiny.json"
    data.write_text(json.dumps([sample]))
    return data


def row(question: str, answer: str, f1: float, **more: object) -> dict[str, object]:
    return {
        "conversation": "conv-t",
        "category": 4,
        "method": "papertape",
        "question": question,
        "answer": answer,
        "reference": "Pixel",
        "f1": f1,
        "model": "fake",
        "context": 2048,
        "set": {"embedder": "fake"},
        **more,
    }


def run_replay(
    args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[object, str, str]:
    import locomo_replay

    monkeypatch.setattr("sys.argv", ["locomo_replay.py", *args])
    code: object = 0
    try:
        locomo_replay.main()
    except SystemExit as stopped:
        code = stopped.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_run_is_judged_again_from_its_recorded_replies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    question = "What is Ann's cat called?"
    rows = [
        # Recorded as refused; today's rules take the same reply.
        row(question, ABSTAIN, 0.0, replies=["Pixel."]),
        # The model's words are Ben's, not Ann's: refused again. (Another run's settings,
        # between two of the first's: each row's replay stays in its place.)
        row(question, ABSTAIN, 0.0, replies=["Rex."], context=4096),
        # An older row: only its answer is known, so it replays approximately.
        row(question, "Pixel.", 1.0),
        {**row(question, "Rex.", 0.0), "method": "bm25"},
    ]
    runs = tmp_path / "rows.jsonl"
    runs.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "again.jsonl"
    args = [str(runs), "--data", str(locomo_file(tmp_path)), "--out", str(out)]
    code, printed, err = run_replay(args, monkeypatch, capsys)
    assert code == 0, err
    again = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["method"] for r in again] == ["papertape", "papertape", "papertape", "bm25"]
    taken, refused, older, baseline = again
    assert taken["answer"].startswith("Pixel") and taken["f1"] == 1.0 and taken["exact"]
    assert taken["recorded_answer"] == ABSTAIN and taken["recorded_f1"] == 0.0
    assert refused["answer"] == ABSTAIN and refused["exact"]
    assert older["answer"].startswith("Pixel") and not older["exact"]
    assert baseline == rows[3]
    # 4 single-hop: 3 questions, 2 exact, F1 0.333 recorded and 0.667 replayed, 1 changed up.
    assert "| 4 single-hop | 3 | 2 | 0.333 | 0.667 | 1 | 1 | 0 |" in printed


def test_rows_of_a_conversation_the_data_lacks_are_one_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = tmp_path / "rows.jsonl"
    runs.write_text(json.dumps({**row("Q?", ABSTAIN, 0.0), "conversation": "conv-z"}) + "\n")
    args = [str(runs), "--data", str(locomo_file(tmp_path))]
    code, _, err = run_replay(args, monkeypatch, capsys)
    assert code == 2 and err == "locomo_replay: --data has no conversation conv-z.\n"
    args = [str(tmp_path / "none.jsonl"), "--data", str(locomo_file(tmp_path))]
    code, _, err = run_replay(args, monkeypatch, capsys)
    assert code == 2 and err == f"locomo_replay: {tmp_path / 'none.jsonl'} does not exist.\n"


def test_a_benchmark_run_records_its_replies_and_replays_to_the_same_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import bench_locomo

    data = locomo_file(tmp_path)
    sample = json.loads(data.read_text())
    sample[0]["qa"] = [
        {
            "question": "What is Ann's cat called?",
            "answer": "Pixel",
            "category": 4,
            "evidence": ["D1:1"],
        },
        {
            "question": "What does Ben's dog hate?",
            "answer": "cats",
            "category": 4,
            "evidence": ["D1:2"],
        },
    ]
    data.write_text(json.dumps(sample))
    runs = tmp_path / "rows.jsonl"
    args = ["--data", str(data), "--model", "fake", "--set", "embedder=fake"]
    args += ["--methods", "papertape", "--context", "2048", "--out", str(runs)]
    monkeypatch.setattr("sys.argv", ["bench_locomo.py", *args])
    bench_locomo.main()
    ran = [json.loads(line) for line in runs.read_text().splitlines()]
    # The fake model quotes the first memory line of its prompt: that is the recorded reply.
    assert len(ran) == 2 and all(len(r["replies"]) >= 1 for r in ran)
    assert all(": " in r["replies"][0] for r in ran), ran

    out = tmp_path / "again.jsonl"
    code, _, err = run_replay(
        [str(runs), "--data", str(data), "--out", str(out)], monkeypatch, capsys
    )
    assert code == 0, err
    again = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["answer"] for r in again] == [r["answer"] for r in ran]
    assert all(r["exact"] for r in again)
