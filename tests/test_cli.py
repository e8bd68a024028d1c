"""The CLI contract of DESIGN.md, through the real entry point (fake embedder for speed)."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import click
import pytest

from agent.cli.main import cli as cli_group

NOW = "2024-03-01T12:00:00Z"


def test_every_command_has_help(cli) -> None:
    for name, command in cli_group.commands.items():
        assert command.help or command.callback.__doc__, f"{name} has no help"
        result = cli(name, "--help")
        assert result.code == 0, name
        assert "Usage:" in result.out, name


def test_note_recall_json_shape(cli) -> None:
    first = cli("note", "dentist moved to thursday", "--now", NOW)
    assert first.code == 0
    assert first.out.strip() == "1"
    cli("note", "alice lives on elm street", "--now", NOW, "--at", "2024-02-01")
    result = cli("recall", "dentist", "--json", "-k", "1", "--now", NOW)
    data = json.loads(result.out)
    assert data["query"] == "dentist"
    (hit,) = data["results"]
    assert set(hit) >= {"id", "score", "tier", "kind", "source", "occurred_at", "text"}
    assert (hit["id"], hit["tier"], hit["kind"], hit["occurred_at"]) == (
        1,
        "sharp",
        "text",
        "2024-03-01T12:00:00Z",
    )


def test_duplicate_note_prints_existing_id(cli) -> None:
    cli("note", "same words")
    again = cli("note", "same words")
    assert again.code == 0
    assert again.out.strip() == "1"
    assert "already stored as #1" in again.err


def test_note_from_stdin(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("from a pipe\n"))
    assert cli("note", "-").out.strip() == "1"
    assert "from a pipe" in cli("recall", "pipe").out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("note", ""), "empty"),
        (("recall", "  "), "empty"),
        (("recall", "x", "-k", "0"), "-k must be from 1"),
        (("note", "x", "--at", "yesterday-ish"), "ISO 8601"),
        (("forget", "42"), "no memory with id 42"),
        (("pin", "7"), "no memory with id 7"),
        (("recall", "x", "--mode", "magic"), "magic"),
        (("recall",), "Missing argument 'QUERY' (papertape recall --help shows how)."),
        (("recall", "x", "-k", "abc"), "'abc' is not a valid integer"),
        (("frobnicate",), "No such command 'frobnicate' (papertape --help shows how)."),
        (("note", "x", "--source", " "), "--source is empty"),
    ],
)
def test_bad_input_is_one_sentence_and_exit_2(cli, args, message) -> None:
    result = cli(*args)
    assert result.code == 2, result
    assert message in result.err
    assert "Traceback" not in result.err + result.out
    assert len(result.err.strip().splitlines()) == 1


def test_ingest_reports_each_file_and_exits_2_on_a_bad_one(cli, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "ok.txt").write_text("a fine note")
    (folder / "bad.txt").write_bytes(b"\x00\x00binary")
    result = cli("ingest", str(folder), "--json")
    assert result.code == 2
    statuses = {Path(r["path"]).name: r["status"] for r in json.loads(result.out)["results"]}
    assert statuses == {"ok.txt": "stored", "bad.txt": "rejected"}
    human = cli("ingest", str(folder))
    assert "already stored" in human.out
    assert "bad.txt is a binary file" in human.err


def test_ingest_missing_path(cli, tmp_path: Path) -> None:
    result = cli("ingest", str(tmp_path / "nowhere.txt"))
    assert result.code == 2
    assert "does not exist" in result.err


def test_forget_pin_unpin(cli) -> None:
    cli("note", "keep me")
    cli("note", "drop me")
    assert cli("pin", "1").out.strip() == "pinned #1"
    recall = json.loads(cli("recall", "me", "--json").out)
    assert {r["id"]: r["pinned"] for r in recall["results"]} == {1: True, 2: False}
    assert json.loads(cli("pin", "1", "2", "--json").out) == {"pinned": [1, 2]}
    assert json.loads(cli("unpin", "2", "--json").out) == {"unpinned": [2]}
    assert cli("forget", "2", "--yes").code == 0
    assert "drop me" not in cli("recall", "me").out
    assert cli("unpin", "1").out.strip() == "unpinned #1"


def test_stats_json_shape(cli) -> None:
    cli("note", "abc")
    data = json.loads(cli("stats", "--json").out)
    assert data["memories"] == 1
    assert set(data["tiers"]) == {"sharp", "hazy", "archive"}
    assert data["tiers"]["sharp"] == {"count": 1, "bytes": 3 + 384 * 4}
    assert data["kinds"]["text"]["count"] == 1


def test_export_to_file_then_import_elsewhere(cli, tmp_path: Path) -> None:
    cli("note", "one")
    cli("note", "two")
    out = tmp_path / "backup.jsonl"
    assert cli("export", "-o", str(out)).code == 0
    assert len(out.read_text().splitlines()) == 3  # two memories and the store's last line
    result = cli("--home", str(tmp_path / "other"), "import", str(out), "--json")
    assert json.loads(result.out)["imported"] == 2
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"format": "something else"}\n')
    failed = cli("--home", str(tmp_path / "third"), "import", str(bad))
    assert failed.code == 2
    assert "line 1" in failed.err
    bad.write_text('{"text": "a tab\there"}\n')  # a raw control character inside a string
    failed = cli("--home", str(tmp_path / "third"), "import", str(bad))
    assert "line 1 is not JSON (Invalid control character at column 16)" in failed.err


def test_an_export_cut_short_or_empty_is_refused(cli, tmp_path: Path) -> None:
    for text in ("one", "two", "three"):
        cli("note", text)
    out = tmp_path / "backup.jsonl"
    cli("export", "-o", str(out))
    lines = out.read_text().splitlines()
    assert json.loads(lines[-1])["memories"] == 3
    for name, kept in (("cut", lines[:2] + lines[-1:]), ("empty", []), ("blank", ["", " "])):
        bad = tmp_path / f"{name}.jsonl"
        bad.write_text("".join(line + "\n" for line in kept))
        refused = cli("--home", str(tmp_path / name), "import", str(bad))
        assert refused.code == 2, name
        assert (
            "cut short or edited" if name == "cut" else "holds no papertape export"
        ) in refused.err
    # Without its last line (as "head" leaves it, or an older export): imported, and said.
    headless = tmp_path / "head.jsonl"
    headless.write_text("".join(line + "\n" for line in lines[:2]))
    taken = cli("--home", str(tmp_path / "head"), "import", str(headless))
    assert taken.code == 0
    assert "imported 2" in taken.out
    assert "may have been cut short" in taken.err


def test_export_into_a_missing_folder_is_one_sentence(cli, tmp_path: Path) -> None:
    cli("note", "one")
    result = cli("export", "-o", str(tmp_path / "nowhere" / "backup.jsonl"))
    assert result.code == 2
    assert "does not exist" in result.err
    assert "Traceback" not in result.err
    assert "unexpected" not in result.err
    assert not (tmp_path / "nowhere").exists()


def test_daemon_status_shows_next_runs_in_local_time_to_the_minute() -> None:
    from agent.cli.daemon import next_run_text
    from agent.clock import local_date

    assert next_run_text("2026-12-07T03:52:14.089455+00:00") == local_date(1796615534.089455)
    assert next_run_text(None) == "-"


def test_home_flag_on_a_command(cli, tmp_path: Path) -> None:
    cli("note", "elsewhere", "--home", str(tmp_path / "h2"))
    assert (tmp_path / "h2" / "papertape.db").exists()


@pytest.mark.needs(
    "onnxruntime", "minilm-int8-onnx", "minilm-tokenizer", "smollm2-135m", "qwen2.5-coder-0.5b"
)
def test_doctor_and_models_json(cli) -> None:
    doctor = json.loads(cli("doctor", "--json").out)
    assert doctor["device"]["cores"] >= 1
    assert "onnxruntime" in doctor["device"]["runtimes"]
    assert doctor["paths"]["store"].endswith("papertape.db")
    models = json.loads(cli("models", "--json").out)["models"]
    names = {m["name"] for m in models}
    assert {"minilm-int8-onnx", "minilm-tokenizer", "smollm2-135m", "qwen2.5-coder-0.5b"} <= names
    defaults = {m["role"]: m["name"] for m in models if m["default"]}
    # The language model by default is the largest catalogued one that fits this machine.
    assert defaults["transcriber"] == "whisper-base"
    assert defaults["generator"] in {"qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b", "smollm2-135m"}
    assert doctor["generator"]["model"] in names
    assert doctor["generator"]["context_tokens"] >= 1024


def test_doctor_names_the_embedder(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    assert json.loads(cli("doctor", "--json").out)["embedder"] == "fake"  # the cli fixture's
    monkeypatch.setenv("PAPERTAPE_EMBEDDER", "e5-small")
    assert "embedder\n  e5-small\n" in cli("doctor").out


def test_no_command_shows_the_overview(cli) -> None:
    result = cli()
    assert result.code == 0
    assert "papertape home:" in result.out
    assert "Commands:" in result.out


def test_unknown_embedder_suggests_the_closest(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERTAPE_EMBEDDER", "minilmm")
    result = cli("note", "x")
    assert result.code == 2
    assert "Did you mean 'minilm'" in result.err


def test_group_lists_the_contract_commands() -> None:
    assert isinstance(cli_group, click.Group)
    assert {
        "note",
        "ingest",
        "recall",
        "forget",
        "pin",
        "unpin",
        "stats",
        "export",
        "import",
        "models",
        "doctor",
    } <= set(cli_group.commands)


def test_commands_that_need_no_model_do_not_load_one(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys; from agent.cli.main import main\n"
        "try: main(['--home', sys.argv[1], 'stats'])\n"
        "except SystemExit: pass\n"
        "print('LOADED' if 'onnxruntime' in sys.modules else 'NOT LOADED')"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "h")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip().endswith("NOT LOADED")


def test_a_home_that_is_a_file_is_one_sentence(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    afile = tmp_path / "afile"
    afile.write_text("not a folder")
    monkeypatch.setenv("PAPERTAPE_HOME", str(afile))  # --home is checked by click itself
    result = cli("stats")
    assert result.code == 2
    assert "is a file, not a folder" in result.err
    assert afile.read_text() == "not a folder"


def test_progress_piped_is_one_plain_line_now_and_then(capsys: pytest.CaptureFixture[str]) -> None:
    from agent.cli.support import progress_printer

    progress_printer()(1, 3, "facts")  # captured stderr is not a terminal
    assert capsys.readouterr().err == ""  # nothing within the first 30 s
    progress_printer(heartbeat_s=0)(2, 3, "facts: episode 2")
    line = capsys.readouterr().err
    assert line.endswith("2/3 facts: episode 2\n")
    assert "\x1b" not in line


def test_a_command_that_makes_the_store_says_so_once(cli, tmp_path: Path) -> None:
    new = str(tmp_path / "typo")
    assert f"made a new store in {new}." in cli("--home", new, "recall", "dentist").err
    assert "made a new store" not in cli("--home", new, "stats").err


def test_a_failing_command_leaves_no_new_store_behind(cli, tmp_path: Path) -> None:
    new = tmp_path / "typo"
    bad = tmp_path / "export.jsonl"
    bad.write_text('{"format": "papertape-store/1"\n')  # cut short: refused
    result = cli("--home", str(new), "import", str(bad))
    assert result.code == 2, result.err
    assert "made a new store" not in result.err
    assert not new.exists()  # the folder it made goes too
    # A folder that was there keeps everything but the store the command made.
    there = tmp_path / "there"
    there.mkdir()
    (there / "mine.txt").write_text("the person's own file")
    assert cli("--home", str(there), "import", str(bad)).code == 2
    assert sorted(p.name for p in there.iterdir()) == ["mine.txt"]
    # A store that keeps something stays, the command failing after it or not.
    assert cli("--home", str(new), "note", "the spare key is in the shed").code == 0
    assert cli("--home", str(new), "import", str(bad)).code == 2
    assert "spare key" in cli("--home", str(new), "recall", "spare key").out


def test_bytes_that_are_not_utf8_are_one_sentence_or_shown_as_such(cli, tmp_path: Path) -> None:
    home = str(tmp_path / "home")
    # An argument in another encoding reaches Python as lone surrogates (byte 0xe9: \udce9).
    for args in (
        ["note", "caf\udce9"],
        ["recall", "\udcff"],
        ["note", "--speaker", "\udcff", "hi"],
        ["ask", "\udcff?"],
    ):
        result = cli("--home", home, *args)
        assert result.code == 2, result.err
        assert "is not UTF-8 text (byte 0x" in result.err
        assert "unexpected" not in result.err
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "a.txt").write_text("the boiler was serviced in May")
    odd = os.fsdecode(bytes(folder) + b"/z\xe9.txt")  # a name that is not UTF-8
    Path(odd).write_text("the spare fuse is in the drawer")
    result = cli("--home", home, "ingest", str(folder))
    assert result.code == 0, result.err
    assert result.out.count("stored") == 2
    assert "the spare fuse" in cli("--home", home, "recall", "spare fuse").out
