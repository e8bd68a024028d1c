"""The LoCoMo benchmark's question sample (scripts/bench/locomo.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scripts.bench import common
from scripts.bench.locomo import sample
from scripts.bench.locomo_data import Conversation, Question, chosen_conversations
from scripts.bench.locomo_rows import earlier_rows, read_questions


def conversation(questions: int) -> Conversation:
    asked = tuple(Question(f"q{i}?", "a", 4, (f"D1:{i}",)) for i in range(questions))
    return Conversation("conv-x", (), asked)


def test_a_sample_spreads_over_the_conversation_and_an_offset_gives_other_questions() -> None:
    conv = conversation(100)
    first = [q.question for q in sample(conv, 10)]
    middle = [q.question for q in sample(conv, 10, 0.5)]
    assert first == [f"q{i}?" for i in range(0, 100, 10)]
    assert middle == [f"q{i}?" for i in range(5, 100, 10)]
    assert not set(first) & set(middle)


def test_a_limit_above_the_question_count_takes_them_all() -> None:
    conv = conversation(7)
    assert len(sample(conv, 10, 0.5)) == 7


def test_a_category_filter_samples_only_that_category() -> None:
    asked = tuple(Question(f"q{i}?", "a", 1 + i % 2, (f"D1:{i}",)) for i in range(40))
    conv = Conversation("conv-x", (), asked)
    chosen = sample(conv, 5, 0.0, frozenset(), frozenset({2}))
    assert len(chosen) == 5
    assert {q.category for q in chosen} == {2}
    assert len(sample(conv, None, 0.0, frozenset(), frozenset({1}))) == 20


def test_named_conversations_keep_the_files_order_and_an_unknown_id_is_one_sentence(
    capsys: pytest.CaptureFixture[str],
) -> None:
    convs = [Conversation(name, (), ()) for name in ("conv-a", "conv-b", "conv-c")]
    picked = chosen_conversations(convs, ["conv-c", "conv-a"], "bench_x", Path("d.json"))
    assert [c.sample_id for c in picked] == ["conv-a", "conv-c"]
    assert chosen_conversations(convs, None, "bench_x", Path("d.json")) == convs
    with pytest.raises(SystemExit) as stopped:
        chosen_conversations(convs, ["conv-a", "conv-z"], "bench_x", Path("d.json"))
    assert stopped.value.code == 2
    assert capsys.readouterr().err == "bench_x: no conversation 'conv-z' in d.json.\n"


def test_questions_an_earlier_run_holds_are_left_out_before_sampling(tmp_path: Path) -> None:
    conv = conversation(100)
    earlier = tmp_path / "rows.jsonl"
    rows = [{"conversation": "conv-x", "question": q.question} for q in sample(conv, 10)]
    rows.append({"conversation": "conv-y", "question": "q1?"})  # another conversation's
    earlier.write_text("".join(json.dumps(r) + "\n" for r in rows) + "\n", encoding="utf-8")
    read = read_questions([earlier])
    unread = [q.question for q in sample(conv, 10, 0.0, read["conv-x"])]
    assert len(unread) == 10
    assert not set(unread) & {r["question"] for r in rows[:10]}
    assert "q1?" in unread  # read only in conv-y
    assert [q.question for q in sample(conv, 10)] == [r["question"] for r in rows[:10]]


def test_a_run_resumes_only_rows_made_with_the_same_settings(tmp_path: Path) -> None:
    """Rows made with --set recall_k=15 or --category 1 are not taken up by a run without it,
    or back."""
    out = tmp_path / "rows.jsonl"
    tags = {"model": "m", "limit": 5, "context": 8192, "offset": 0.0, "f1": 0.5}
    plain = {**tags, "conversation": "conv-x", "method": "papertape"}
    changed = {**plain, "conversation": "conv-y", "set": {"recall_k": "15"}}
    multihop = {**plain, "conversation": "conv-z", "categories": [1]}
    rows = [plain, changed, multihop]
    out.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")

    def resumed(settings: dict[str, str] | None, categories: list[int] | None = None) -> list[str]:
        found = earlier_rows(out, "m", 5, 8192, False, ("papertape",), 0.0, settings, categories)
        return [r["conversation"] for r in found]

    assert resumed(None) == ["conv-x"]
    assert resumed({"recall_k": "15"}) == ["conv-y"]
    assert resumed({"recall_k": "12"}) == []
    assert resumed(None, [1]) == ["conv-z"]


@pytest.mark.parametrize("item", ["recall_k", "no_such_setting=1", "recall_k=many"])
def test_a_bad_set_is_one_sentence_and_exit_2(
    item: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        common.settings_set([item], "python -m scripts.bench.locomo")
    assert stopped.value.code == 2
    error = capsys.readouterr().err
    assert error.startswith("python -m scripts.bench.locomo: --set")
    assert error.count("\n") == 1


def test_a_missing_data_file_is_one_sentence_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere.json"
    with pytest.raises(SystemExit) as stopped:
        common.data_file(missing, "bench_x")
    assert stopped.value.code == 2
    assert capsys.readouterr().err == f"bench_x: {missing} does not exist; give --data FILE.\n"
    missing.write_text("[]")
    assert common.data_file(missing, "bench_x") == missing


def test_a_good_set_is_the_overrides() -> None:
    assert common.settings_set(["recall_k=15"], "bench_locomo") == {"recall_k": "15"}


def test_a_set_for_what_a_flag_sets_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """--model would silently win over --set model=..., so the run is refused instead."""
    with pytest.raises(SystemExit) as stopped:
        common.settings_set(["model=tiny"], "python -m scripts.bench.locomo", {"model": "--model"})
    assert stopped.value.code == 2
    assert (
        capsys.readouterr().err
        == "python -m scripts.bench.locomo: --set model is what --model is for; use --model.\n"
    )


def run_bench(
    args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[object, str]:
    """bench_locomo's main with these arguments: its exit code and what it wrote to stderr."""
    from scripts.bench import locomo as bench_locomo

    monkeypatch.setattr("sys.argv", ["bench_locomo.py", *args])
    with pytest.raises(SystemExit) as stopped:
        bench_locomo.main()
    return stopped.value.code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{", "is not JSON (Expecting property name enclosed in double quotes, line 1)."),
        ('[{"sample_id": "x"}]', "does not follow LoCoMo's schema: no 'conversation' field."),
    ],
)
def test_a_file_that_is_not_locomo_is_one_sentence(
    content: str,
    expected: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = tmp_path / "data.json"
    data.write_text(content)
    code, err = run_bench(["--data", str(data)], monkeypatch, capsys)
    assert code == 2
    assert err == f"python -m scripts.bench.locomo: {data} {expected}\n"


@pytest.mark.needs("onnxruntime", "tokenizers", "minilm-int8-onnx", "minilm-tokenizer")
def test_a_model_that_cannot_answer_is_one_sentence_and_writes_no_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    turn = {"speaker": "Ann", "dia_id": "D1:1", "text": "I adopted a cat named Pixel."}
    sample = {
        "sample_id": "conv-t",
        "conversation": {"session_1_date_time": "1:56 pm on 8 May, 2023", "session_1": [turn]},
        "qa": [
            {
                "question": "What is Ann's cat called?",
                "answer": "Pixel",
                "category": 4,
                "evidence": ["D1:1"],
            }
        ],
    }
    data = tmp_path / "tiny.json"
    data.write_text(json.dumps([sample]))
    out = tmp_path / "rows.jsonl"
    args = ["--data", str(data), "--model", "no-such-model", "--out", str(out)]
    code, err = run_bench(args, monkeypatch, capsys)
    assert code == 2
    assert err.startswith("python -m scripts.bench.locomo: there is no model called")
    assert err.count("\n") == 1
    assert "Traceback" not in err
    assert not out.exists() or out.read_text() == ""


def test_an_unknown_category_is_one_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data.json"
    data.write_text("[]")
    code, err = run_bench(["--data", str(data), "--category", "9"], monkeypatch, capsys)
    assert code == 2
    assert err == "python -m scripts.bench.locomo: --category takes 1, 2, 3, 4, 5.\n"


def test_run_records_are_refused_inside_the_repository(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outside = tmp_path / "runs.jsonl"
    assert common.outside_repository(outside, "bench_x") == outside
    with pytest.raises(SystemExit) as stopped:
        common.outside_repository(common.ROOT / "docs" / "runs.jsonl", "bench_x")
    assert stopped.value.code == 2
    assert "inside the repository" in capsys.readouterr().err
