"""The installed `papertape` command with the real MiniLM embedder, as a person runs it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
EXE = shutil.which("papertape", path=str(Path(__file__).resolve().parents[1] / ".venv" / "bin"))


def run(home: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERTAPE_")}
    env["PAPERTAPE_HOME"] = str(home)
    return subprocess.run(
        [EXE or "papertape", *args],
        capture_output=True,
        text=True,
        env=env,
        input=stdin,
        timeout=120,
    )


def test_a_paraphrased_question_finds_the_planted_fact(tmp_path: Path) -> None:
    home = tmp_path / "home"
    facts = [
        "My passport number is kept in the blue folder in the top drawer.",
        "Dinner with Priya on Friday at the Thai place on Mill Road.",
        "The wifi password for the cabin is written on the fridge.",
        "Car insurance renews on the 3rd of June with Acme Mutual.",
    ]
    for fact in facts:
        assert run(home, "note", fact).returncode == 0
    result = run(home, "recall", "when do I need to renew my vehicle cover?", "--json", "-k", "1")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["results"][0]["text"] == facts[3]


def test_bad_input_never_shows_a_traceback(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (tmp_path / "x.bin").write_bytes(b"\x00\x01")
    for args in (
        ("ingest", str(tmp_path / "x.bin")),
        ("ingest", str(tmp_path / "missing")),
        ("note", ""),
        ("forget", "5", "--yes"),
        ("import", str(tmp_path / "x.bin")),
    ):
        result = run(home, *args)
        assert result.returncode == 2, (args, result.stderr)
        assert "Traceback" not in result.stderr, (args, result.stderr)
        assert result.stderr.startswith("papertape: "), (args, result.stderr)
        assert result.stderr.count("\n") == 1, (args, result.stderr)
    check = run(home, "stats", "--json")
    assert json.loads(check.stdout)["memories"] == 0
