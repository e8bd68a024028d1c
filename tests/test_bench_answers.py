"""The judged-answer benchmark's sample and its blind judging (scripts/bench/answers.py,
scripts/bench/judge.py): logic only, no model (a scripted one reads time words)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from agent.answer.session import ChatSession
from agent.memory.times import TIME_MARK
from scripts.bench.answers import answer_rows, read_time_words, stratified_sample
from scripts.bench.judge import report
from scripts.bench.locomo_data import Conversation, Question, Turn
from tests.facts_support import episode, make_app, script

ROOT = Path(__file__).resolve().parent.parent


def conversation(name: str, per_category: int) -> Conversation:
    questions = tuple(
        Question(f"{name} q{c}-{i}?", f"a{i}", c, ("D1:1",) if c != 5 else ())
        for c in range(1, 6)
        for i in range(per_category)
    )
    return Conversation(name, (Turn("D1:1", 1, "A: hi", 0.0),), questions)


def test_the_sample_is_stratified_fixed_and_its_subset_is_part_of_it() -> None:
    convs = [conversation("c1", 8), conversation("c2", 8)]
    sample = stratified_sample(convs, 5, seed=3)
    assert sorted(q.category for _, q in sample.values()) == sorted(list(range(1, 6)) * 5)
    assert sample.keys() == stratified_sample(convs, 5, seed=3).keys()
    assert sample.keys() != stratified_sample(convs, 5, seed=4).keys()
    subset = stratified_sample(convs, 5, seed=3, subset=2)
    assert len(subset) == 10
    assert subset.keys() <= sample.keys()
    temporal = stratified_sample(convs, 5, seed=3, categories=[2, 5])
    assert temporal == {k: v for k, v in sample.items() if v[1].category in (2, 5)}


def row(version: str, qid: str, category: int, answer: str, status: str = "answered") -> dict:
    return {
        "id": qid,
        "model": "m",
        "version": version,
        "category": category,
        "question": f"{qid}?",
        "reference": "ref",
        "answer": answer,
        "status": status,
        "supported": True,
        "f1": 0.5,
        "ttft_s": 2.0,
        "prompt_tokens": 100,
        "raw_reply": "{}",
    }


def test_answers_are_judged_blind_and_joined_back(tmp_path: Path) -> None:
    rows_a = [row("a", "q1", 1, "Paris"), row("a", "q2", 5, "", "not_in_memories")]
    declined = "(the model says this is not in your memories)"
    rows_b = [row("b", "q1", 1, "Rome"), {**row("b", "q2", 5, "Lyon"), "marks": [declined]}]
    files = []
    for name, rows in (("a", rows_a), ("b", rows_b)):
        path = tmp_path / f"{name}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        files.append(str(path))
    script = ["-m", "scripts.bench.judge"]
    blind, key = tmp_path / "blind.jsonl", tmp_path / "key.json"
    subprocess.run(
        [sys.executable, *script, "shuffle", *files, "--blind", str(blind), "--key", str(key)],
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    lines = [json.loads(line) for line in blind.read_text().splitlines()]
    assert len(lines) == 4
    assert all("version" not in item and "model" not in item for item in lines)
    # The judge reads the answer as the person sees it: the model's words, then their marks.
    truth = {
        "Paris": "CORRECT",
        "Rome": "WRONG",
        "(no answer)": "ABSTAINED",
        f"Lyon\n{declined}": "CORRECT",
    }
    labels = tmp_path / "labels.jsonl"
    labels.write_text(
        "".join(
            json.dumps({"blind": i["blind"], "label": truth[i["answer"]]}) + "\n" for i in lines
        )
    )
    out = tmp_path / "judged.jsonl"
    done = subprocess.run(
        [
            sys.executable,
            *script,
            "join",
            *files,
            "--blind",
            str(blind),
            "--key",
            str(key),
            "--labels",
            str(labels),
            "--out",
            str(out),
        ],
        check=True,
        capture_output=True,
        cwd=ROOT,
        text=True,
    )
    judged = {
        (r["version"], r["id"]): r["label"] for r in map(json.loads, out.read_text().splitlines())
    }
    assert judged == {
        ("a", "q1"): "CORRECT",
        ("a", "q2"): "ABSTAINED",
        ("b", "q1"): "WRONG",
        ("b", "q2"): "CORRECT",
    }
    table = {line.split(" | ")[1]: line for line in done.stdout.splitlines() if "| m |" in line}
    assert table["a"].startswith("| m | a | 2 |")
    assert "| 1/1 |" in table["a"]  # declined by abstaining
    assert "| 1/1 |" in table["b"]  # declined by its status, shown beside the words


def test_the_report_counts_correct_answers_the_check_marked() -> None:
    rows = [
        {**row("a", "q1", 1, "x"), "label": "CORRECT", "supported": False},
        {**row("a", "q2", 2, "y"), "label": "CORRECT"},
        {**row("a", "q3", 4, "z"), "label": "WRONG"},
    ]
    table = report(rows)
    assert "| 0.667 |" in table
    assert "1 of 2" in table


def test_time_words_are_read_for_what_ask_would_show_and_nothing_else(home: Path) -> None:
    with make_app(home, ask_k=2, context_hits=2, context_after=1) as app:
        ids = episode(
            app,
            1_683_540_000.0,
            ["Ana: the dentist moved to Friday.", "Ben: ok, noted."]
            + [f"Ana: note {n} about gardening" for n in range(6)]
            + ["Ben: when is the dentist?"],
        )
        question = Question("When is the dentist?", "Friday", 2, ())
        chat = ChatSession(app.store, app.embedder, app.generator(), app.settings, remember=False)
        wanted = [m.id for m in chat.evidence(question.question, 1_683_600_000.0)]
        none = {"words": "", "unit": "none", "when": "none", "count": 1}
        generator = script(app, *[none] * len(wanted))
        read_time_words(app, generator, [question], 1_683_600_000.0)
        assert len(wanted) == 3, wanted  # two recalled, and the turn after one
        assert app.store.marked(TIME_MARK) == set(wanted)
        assert len(generator.prompts) == len(wanted) < len(ids)


def test_a_kept_store_is_asked_again_without_storing_the_conversation_twice(home: Path) -> None:
    conv = Conversation(
        "c1",
        (
            Turn("D1:1", 1, "Ana: the dentist moved to Friday.", 1_683_540_000.0),
            Turn("D1:2", 1, "Ben: ok, noted.", 1_683_540_060.0),
        ),
        (),
    )
    kept = home / "ids.json"
    with make_app(home) as app:
        assert answer_rows(app, conv, [], {}, kept_ids=kept) == []
        ids = json.loads(kept.read_text())
        assert sorted(ids) == ["D1:1", "D1:2"]
        stored = app.store.count()
    with make_app(home) as app:
        answer_rows(app, conv, [], {}, kept_ids=kept)
        assert app.store.count() == stored == 2
        assert json.loads(kept.read_text()) == ids


def test_a_questions_file_listing_none_of_the_draw_is_refused_in_one_sentence(
    tmp_path: Path,
) -> None:
    turn = {"speaker": "Ana", "dia_id": "D1:1", "text": "I moved to Lyon."}
    qa = [
        {"question": "Where did Ana move?", "answer": "Lyon", "category": 4, "evidence": ["D1:1"]}
    ]
    conversation_data = {"session_1_date_time": "1:56 pm on 8 May, 2023", "session_1": [turn]}
    data = tmp_path / "locomo.json"
    data.write_text(json.dumps([{"sample_id": "c1", "conversation": conversation_data, "qa": qa}]))
    listed = tmp_path / "ids.txt"
    listed.write_text("c9:q0\n")
    done = subprocess.run(
        [
            *(sys.executable, "-m", "scripts.bench.answers", "--model", "smollm2-135m"),
            *("--data", str(data), "--questions", str(listed), "--per-category", "1"),
            *("--out", str(tmp_path / "rows.jsonl")),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "none of the questions" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "rows.jsonl").exists()
