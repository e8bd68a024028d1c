"""Is the answer theirs? The answer's likelihood when its question names someone else
(scripts/bench/swap.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tiny_gguf import write_tiny_gguf

from agent.answer.schema import reply_start
from models.fake_generator import ScriptedGenerator
from models.generator import ChatMessage
from scripts.bench.judged_rows import by_conversation, read_judged
from scripts.bench.swap import likeliest_other, others_in, swap_name, table

MESSAGES = [
    ChatMessage("system", "Memories:\n[1] Mel: I ran a charity race!\n[2] Cara: Great race!"),
    ChatMessage("user", "What did Cara realize after her race?"),
]


@pytest.mark.parametrize(
    ("text", "person", "other", "expected"),
    [
        ("What did Cara do?", "Cara", "Mel", "What did Mel do?"),
        ("Cara's race; cara", "Cara", "Mel", "Mel's race; cara"),  # the name as written
        ("Caravan of Cara", "Cara", "Mel", "Caravan of Mel"),  # whole words only
        ("Was hat Jürgen gemacht?", "Jürgen", "Anna", "Was hat Anna gemacht?"),
        ("李明的生日是哪天？", "李明", "王芳", "王芳的生日是哪天？"),  # no spaces to mark words
        ("Anne Marie ran", "Anne Marie", "Bo", "Bo ran"),
    ],
)
def test_a_name_is_swapped_as_whole_words_in_any_script(
    text: str, person: str, other: str, expected: str
) -> None:
    assert swap_name(text, person, other) == expected


def test_the_others_are_the_people_the_cited_lines_are_said_by_or_name() -> None:
    people = ["Ana", "Bo", "Cy", "Di"]
    cited = {1: "Bo: I ran a race", 2: "Ana: well done! Cy came too"}
    speakers = {1: "Bo", 2: "Ana"}
    assert others_in("Ana", cited, speakers, people) == ["Bo", "Cy"]
    assert others_in("Di", {}, {}, people) == []


class Scored(ScriptedGenerator):
    """A scorer for logic: each continuation's log-probability is given, by the name the
    prompt's question holds."""

    def __init__(self, by_name: dict[str, float]) -> None:
        super().__init__()
        self.by_name = by_name
        self.scored: list[tuple[str, str]] = []

    def logprobs(self, prompt: str, continuation: str) -> list[float]:
        self.scored.append((prompt, continuation))
        question = prompt.rsplit("<|user|>\n", 1)[1]
        name = next(n for n in self.by_name if n in question)
        return [self.by_name[name] / 2, self.by_name[name] / 2]


def test_an_answer_likeliest_other_someone_else_is_found_with_its_gain() -> None:
    scorer = Scored({"Cara": -9.0, "Mel": -4.0, "Zed": -6.0})
    found = likeliest_other(
        scorer, scorer, MESSAGES, "Cara realized self-care matters.", "Cara", ["Mel", "Zed"]
    )
    assert found is not None
    assert found.other == "Mel"
    assert found.gain == pytest.approx(5.0)
    # The question and the answer are both asked about the other; the memories stay as shown.
    prompt, continuation = scorer.scored[1]
    assert "What did Mel realize after her race?" in prompt
    assert prompt.startswith(scorer.format_chat(MESSAGES[:1]).removesuffix("<|assistant|>\n"))
    assert continuation == reply_start("Mel realized self-care matters.")
    assert json.loads(continuation + ', "memory_ids": [], "status": "answered"}')["answer"] == (
        "Mel realized self-care matters."
    )


def test_an_answer_less_likely_about_anyone_else_has_a_gain_below_zero() -> None:
    scorer = Scored({"Cara": -3.0, "Mel": -4.0})
    found = likeliest_other(scorer, scorer, MESSAGES, "She did.", "Cara", ["Mel"])
    assert found is not None
    assert found.gain == pytest.approx(-1.0)
    assert likeliest_other(scorer, scorer, MESSAGES, "She did.", "Cara", []) is None


@pytest.mark.needs("llama_cpp")
def test_a_real_runtime_reads_the_answer_under_both_questions(tmp_path: Path) -> None:
    from models.llama_generator import LlamaGenerator

    llama = LlamaGenerator(
        write_tiny_gguf(tmp_path / "tiny.gguf"), name="tiny", context_tokens=512, threads=1
    )
    try:
        asked = sum(llama.logprobs(llama.format_chat(MESSAGES), reply_start("Cara ran")))
        moved = [MESSAGES[0], ChatMessage("user", "What did Mel realize after her race?")]
        other = sum(llama.logprobs(llama.format_chat(moved), reply_start("Mel ran")))
        found = likeliest_other(llama, llama, MESSAGES, "Cara ran", "Cara", ["Mel"])
    finally:
        llama.close()
    assert asked < 0
    assert other < 0
    assert asked != other
    assert found is not None
    assert found.gain == pytest.approx(other - asked, abs=1e-3)


def test_the_table_counts_declines_and_marked_right_answers_at_each_margin() -> None:
    def result(qid: str, category: int, gain: float | None) -> dict:
        return {"row": {"id": qid, "category": category}, "gain": gain, "other": "Mel", "s": 1.0}

    results = [
        result("t1", 5, 1.5),  # a trap judged answered, marked above margins 0 and 1
        result("t2", 5, 0.5),  # judged declined already: marking it declines nothing new
        result("t3", 5, -2.0),
        result("r1", 4, 0.2),  # a right answer marked above margin 0 only
        result("r2", 4, None),  # no one else in its lines: not read
    ]
    labels = {"t1": "WRONG", "t2": "CORRECT", "t3": "WRONG", "r1": "CORRECT", "r2": "CORRECT"}
    text = table(results, labels)
    assert "| adversarial | 3 | 3 | 1 | 2 (2 declined) | 1 (2 declined) | 0 (1 declined) |" in text
    assert "| judged right | 2 | 1 | - | 1 | 0 | 0 | 0 |" in text


def test_judged_rows_are_read_with_their_versions_labels_or_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = tmp_path / "rows.jsonl"
    labels = tmp_path / "labels.jsonl"
    rows.write_text(
        "".join(
            json.dumps({"id": q, "version": "v1", "conversation": c}) + "\n"
            for q, c in (("b:q1", "b"), ("a:q2", "a"), ("b:q3", "b"))
        )
    )
    labels.write_text(
        json.dumps({"id": "b:q1", "version": "v1", "label": "WRONG"})
        + "\n"
        + json.dumps({"id": "b:q1", "version": "v2", "label": "CORRECT"})
        + "\n"
    )
    read, by_id, version = read_judged(rows, labels, None, "bench")
    assert (by_id, version) == ({"b:q1": "WRONG"}, "v1")
    assert [[r["id"] for r in group] for group in by_conversation(read).values()] == [
        ["a:q2"],
        ["b:q1", "b:q3"],
    ]
    with pytest.raises(SystemExit) as refused:
        read_judged(rows, labels, "v3", "bench")
    assert refused.value.code == 2
    assert "holds no labels of version 'v3'" in capsys.readouterr().err
