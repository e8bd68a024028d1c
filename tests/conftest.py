"""Shared fixtures: a temporary home with a real SQLite store, fake or real embedders."""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from agent.answer.session import Answer
from agent.cli.main import main
from agent.memory.drafts import fact_hash
from agent.memory.facts import FACT_MARK
from agent.service import Papertape
from agent.settings import Settings, load_settings
from models.catalog import MODEL_FILES, parts_installed
from models.fake_embedder import FakeEmbedder
from storage import Memory, MemoryStore, NewMemory

# The extra (pyproject.toml) that installs each optional runtime the tests may need.
EXTRAS = {
    "llama_cpp": "llm",
    "mlx": "mlx",
    "mlx_lm": "mlx",
    "onnxruntime": "onnx",
    "tokenizers": "onnx",
    "rapidocr": "ocr",
    "faster_whisper": "audio",
    "av": "audio",
    "mcp": "mcp",
}


def missing(name: str) -> str | None:
    """Why `name`, an optional runtime module or a catalogued model, cannot be used here
    (None when it can)."""
    models = {entry.name: entry for entry in MODEL_FILES}
    if name in models:
        if parts_installed(models[name]):
            return None
        return f"the {name} model is not installed (scripts/setup installs it)"
    if importlib.util.find_spec(name) is not None:
        return None
    return f"{name} is not installed (scripts/setup installs it: pip install '.[{EXTRAS[name]}]')"


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A test marked needs(...) is skipped, with the reason, where what it needs is absent:
    `pytest -m "not integration"` then passes on a bare install."""
    for marker in item.iter_markers("needs"):
        for name in marker.args:
            reason = missing(name)
            if reason:
                pytest.skip(reason)


PASS = "correct horse battery"  # the encrypted stores' passphrase
NOW = 1_700_000_000.0  # a fixed clock: 2023-11-14T22:13:20Z


def memory(id_: int, text: str) -> Memory:
    """A sharp text memory as the store would return it, for logic tests that need no store."""
    return Memory(
        id=id_,
        tier="sharp",
        kind="text",
        source="t",
        occurred_at=NOW,
        ingested_at=NOW,
        content_hash=str(id_),
        text=text,
        importance=0.5,
        strength=7.0,
        last_recalled_at=None,
        recall_count=0,
        pinned=False,
        vector_bytes=0,
    )


class CloseEmbedder:
    """An embedder that puts every text at one point: closeness always passes."""

    name = "close"
    dim = 2

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return np.tile(np.array([1.0, 0.0], dtype=np.float32), (len(texts), 1))


def answer_with(text: str, **fields: Any) -> Answer:
    """An answered, supported reply citing nothing, with `fields` set, for logic tests of
    what is shown or counted beside an answer."""
    answer = Answer(
        question="What is my locker code?",
        text=text,
        citations=(),
        status="answered",
        supported=True,
        constrained=True,
        memories=(),
        model="fake",
        raw_reply="",
        prompt="",
        prompt_tokens=0,
        answer_tokens=0,
        retrieval_s=0.0,
        ttft_s=None,
        tokens_per_s=None,
        memory_id=None,
    )
    return replace(answer, **fields)


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's own home, config or clock."""
    for key in list(os.environ):
        if key.startswith("PAPERTAPE_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("PAPERTAPE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TZ", "UTC")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def settings(home: Path) -> Settings:
    return load_settings(home, overrides={"embedder": "fake"})


@pytest.fixture
def app(settings: Settings) -> Iterator[Papertape]:
    with Papertape(settings, embedder=FakeEmbedder()) as papertape:
        yield papertape


@pytest.fixture
def store(tmp_path: Path) -> Iterator[MemoryStore]:
    with MemoryStore.open(tmp_path / "store.db", vector_dim=384, embedder="fake") as opened:
        yield opened


@pytest.fixture(scope="session")
def minilm():
    from models.minilm import MiniLMEmbedder

    return MiniLMEmbedder.from_installed_packages()


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    """Run the real entry point in-process (fake embedder unless a test sets another)."""
    monkeypatch.setenv("PAPERTAPE_EMBEDDER", "fake")

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


def distil(app: Papertape, ids: list[int], text: str = "", *, now: float = NOW) -> int:
    """Leave memories as consolidation's facts step would: read for facts, with one fact
    resting on them (linked derived_from each). Returns the fact's id. Lets tier tests run
    without a model writing the fact."""
    sources = app.store.get_many(ids)
    words = text or " ".join(sources[i].text for i in ids)
    with app.store.transaction():
        fact_id = app.store.add(
            NewMemory(
                kind="fact",
                source=sources[ids[0]].source,
                occurred_at=sources[ids[0]].occurred_at,
                ingested_at=now,
                content_hash=fact_hash(words),
                text=words,
                strength=14.0,
            ),
            app.embedder.embed([words])[0],
        )
        for position, memory_id in enumerate(ids):
            app.store.link(fact_id, memory_id, "derived_from", position)
        app.store.mark(ids, FACT_MARK)
    return fact_id


def read_without_facts(app: Papertape, ids: list[int]) -> None:
    """Mark memories read for facts with none found in them: small talk."""
    with app.store.transaction():
        app.store.mark(ids, FACT_MARK)


def judgement(replaces: bool, *, same_thing: bool | None = None) -> str:
    """A model's reply to the update question (agent/memory/updates.py) about one older fact."""
    return json.dumps(
        {
            "new_is_about": "it",
            "old_is_about": "it",
            "same_thing": replaces if same_thing is None else same_thing,
            "changed": replaces,
        }
    )


@pytest.fixture
def secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The encrypted stores' passphrase, given the way a person would: in the environment."""
    monkeypatch.setenv("PAPERTAPE_PASSPHRASE", PASS)
