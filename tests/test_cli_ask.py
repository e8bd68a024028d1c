"""`papertape ask`, `models` and `doctor` through the real entry point; the real SmolLM2 in the
integration test."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import answer_with
from tiny_gguf import write_tiny_gguf

import agent.service
from agent.answer.session import Answer
from agent.cli.mcp import answer_result
from agent.cli.output import ask_json
from device import probe


def test_ask_json_gives_the_answer_its_citations_and_timings(cli) -> None:
    memory_id = int(cli("note", "My locker code at the gym is 4411.").out)
    result = cli("ask", "--model", "fake", "--json", "What is my locker code?")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert set(data) >= {"answer", "citations", "memories", "model", "ttft_s", "tokens_per_s"}
    assert "4411" in data["answer"]
    assert data["citations"] == [memory_id]
    assert data["memories"][0]["id"] == memory_id
    assert data["model"] == "fake"
    assert data["ttft_s"] >= 0
    assert data["chat_memory_id"] > memory_id
    assert data["status"] == "answered"
    assert data["supported"] is True
    assert data["not_of"] is None  # no speakers known: no one to check the lines against
    assert data["constrained"] is True
    assert json.loads(data["raw_reply"])["answer"] == data["answer"]


def test_ask_streams_the_answer_then_its_sources(cli) -> None:
    memory_id = int(cli("note", "The plumber comes on Thursday.").out)
    result = cli("ask", "--model", "fake", "When", "does", "the", "plumber", "come?")
    assert result.code == 0
    assert "Thursday" in result.out
    assert "Sources:" in result.out
    assert f"[{memory_id}]" in result.out.split("Sources:")[1]


def test_ask_on_an_empty_store_says_it_is_not_in_memory(cli) -> None:
    data = json.loads(cli("ask", "-m", "fake", "--json", "Who painted the Sistine ceiling?").out)
    assert data["status"] == "not_in_memories"
    assert data["citations"] == []
    shown = cli("ask", "-m", "fake", "Who painted the Sistine ceiling?").out
    assert "(the model says this is not in your memories)" in shown


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ask", "   "], "question is empty"),
        (["ask", "-m", "smollm2-135", "hi"], "Did you mean 'smollm2-135m'"),
        (["models", "install", "qwen-tiny"], "no catalogued model called 'qwen-tiny'"),
    ],
)
def test_bad_input_is_one_sentence_and_exit_2(cli, args: list[str], message: str) -> None:
    result = cli(*args)
    assert result.code == 2
    assert message in result.err
    assert "Traceback" not in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_a_truncated_gguf_is_bad_input_and_stores_nothing(cli, tmp_path: Path) -> None:
    cli("note", "something to recall")
    good = write_tiny_gguf(tmp_path / "m.gguf")
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(good.read_bytes()[:4000])
    result = cli("ask", "--model", str(cut), "something?")
    assert result.code == 2
    assert "truncated" in result.err
    assert json.loads(cli("stats", "--json").out)["memories"] == 1


@pytest.mark.needs("llama_cpp", "smollm2-135m")
def test_a_model_too_large_for_free_memory_is_refused(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    tiny_ram = replace(probe(), ram_total_bytes=1_000_000_000, ram_available_bytes=300_000_000)
    monkeypatch.setattr(agent.service, "probe", lambda home=None: tiny_ram)
    result = cli("ask", "--model", "smollm2-135m", "anything?")
    assert result.code == 2
    assert "too large for the free memory" in result.err


@pytest.mark.needs("qwen2.5-coder-0.5b")
def test_models_lists_the_catalog_and_what_is_on_the_machine(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lm = tmp_path / "user" / ".lmstudio" / "models" / "me" / "repo"
    lm.mkdir(parents=True)
    write_tiny_gguf(lm / "tiny-Q8_0.gguf", context=4096)
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    for key in ("OLLAMA_MODELS", "HF_HOME", "HF_HUB_CACHE"):
        monkeypatch.delenv(key, raising=False)
    text = cli("models").out
    assert "smollm2-135m" in text
    assert "qwen2.5-coder-0.5b" in text
    assert re.search(r"qwen2\.5-coder-(1\.5|0\.5)b \*", text)  # the default for this machine
    assert "tiny-Q8_0" in text
    assert "lm-studio" in text
    local = json.loads(cli("models", "--json").out)["local"]
    assert [(m["name"], m["quantization"]) for m in local] == [("tiny-Q8_0", "Q8_0")]
    answer = cli("ask", "-m", "tiny-Q8_0", "--json", "anything stored?")
    assert answer.code == 0
    assert json.loads(answer.out)["model"] == "tiny-Q8_0"


@pytest.mark.needs("qwen2.5-coder-0.5b")
def test_doctor_says_which_model_and_why(cli) -> None:
    text = cli("doctor").out
    assert "language model" in text
    assert "threads" in text
    assert "context" in text


@pytest.mark.integration
def test_ask_with_the_default_model_on_a_fresh_home(tmp_path: Path) -> None:
    """The real SmolLM2-135M through llama.cpp, as a new user would run it."""
    env = {**os.environ, "PAPERTAPE_HOME": str(tmp_path / "home"), "TZ": "UTC"}
    env = {k: v for k, v in env.items() if k != "PAPERTAPE_EMBEDDER"}
    # On a fresh install "auto" finds only the default model; a developer's machine may have
    # larger ones installed, so the default is named here.
    env["PAPERTAPE_MODEL"] = "smollm2-135m"

    def papertape(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "agent.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    # Fixed dates: the prompt shows each memory's date, and greedy decoding is only
    # repeatable for the same prompt.
    env["PAPERTAPE_NOW"] = "2026-11-22T12:00:00Z"
    planted = papertape("note", "My locker code at the gym is 4411.", "--at", "2026-11-20")
    assert planted.returncode == 0, planted.stderr
    papertape("note", "Bought oat milk and bread at the corner shop.", "--at", "2026-11-21")
    result = papertape("ask", "--json", "What is my locker code?")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["model"] == "smollm2-135m"
    # The 135M model's words are what they are; the format around them is held by llama.cpp.
    assert json.loads(data["raw_reply"])["answer"] == data["answer"]
    assert data["status"] in ("answered", "not_in_memories", "guess")
    assert data["constrained"]
    shown = {m["id"] for m in data["memories"]}
    assert int(planted.stdout) in shown
    assert set(data["citations"]) <= shown
    assert data["ttft_s"] > 0
    assert data["tokens_per_s"] > 0


def test_a_file_that_fails_its_digest_is_bad_input(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Hugging Face cache blob is named by its sha256; a damaged one must not be loaded."""
    hub = tmp_path / "hub" / "models--org--tiny-GGUF"
    data = write_tiny_gguf(tmp_path / "src.gguf").read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    (hub / "blobs").mkdir(parents=True)
    (hub / "blobs" / digest).write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    (hub / "snapshots" / "a").mkdir(parents=True)
    (hub / "snapshots" / "a" / "tiny.gguf").symlink_to(hub / "blobs" / digest)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    result = cli("ask", "-m", "org/tiny-GGUF/tiny.gguf", "anything?")
    assert result.code == 2
    assert "not the expected" in result.err


def an_answer(text: str, status: str, supported: bool, constrained: bool = True) -> Answer:
    return answer_with(text, status=status, supported=supported, constrained=constrained)


def explained(text: str, status: str, supported: bool, constrained: bool = True) -> None:
    """Print what `ask` prints after the streamed reply for such an answer."""
    from agent.cli.models import _explain

    _explain(an_answer(text, status, supported, constrained))


@pytest.mark.parametrize(
    ("status", "supported", "constrained", "said"),
    [
        ("answered", True, True, ""),
        ("answered", False, True, "(not supported by your memories"),
        ("guess", False, True, "(a guess: your memories do not state it)"),
        ("not_in_memories", False, True, "(the model says this is not in your memories)"),
        ("guess", False, False, "(plain text: this model's runtime cannot hold its reply"),
    ],
)
def test_ask_marks_what_the_memories_do_not_back(
    capsys: pytest.CaptureFixture[str], status: str, supported: bool, constrained: bool, said: str
) -> None:
    explained("4411", status, supported, constrained)
    out = capsys.readouterr().out
    assert out.startswith(said) if said else out == ""


def test_an_answer_that_gives_a_redacted_value_says_it_was_taken_out(
    capsys: pytest.CaptureFixture[str],
) -> None:
    explained("The wifi password is [redacted password].", "answered", True)
    assert "the password was taken out before it was stored" in capsys.readouterr().out
    explained("The wifi password is blue-otter-42.", "answered", True)
    assert capsys.readouterr().out == ""
    answer = an_answer("It is [redacted password], at [redacted url].", "answered", True)
    assert ask_json(answer)["redacted"] == answer_result(answer)["redacted"] == ["password", "url"]
