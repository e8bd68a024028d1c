from __future__ import annotations

from pathlib import Path

import pytest

from agent.clock import iso, parse_time, resolve_now
from agent.errors import UserError
from agent.settings import load_settings


def test_precedence_defaults_file_env_flags(tmp_path: Path) -> None:
    home = tmp_path / "h"
    home.mkdir()
    assert load_settings(home, env={}).recall_k == 10
    (home / "config.toml").write_text("recall_k = 5\npassage_chars = 500\n")
    assert load_settings(home, env={}).recall_k == 5
    env = {"PAPERTAPE_RECALL_K": "7"}
    assert load_settings(home, env=env).recall_k == 7
    assert load_settings(home, env=env).passage_chars == 500
    assert load_settings(home, overrides={"recall_k": 3}, env=env).recall_k == 3


def test_home_from_env_then_flag(tmp_path: Path) -> None:
    env = {"PAPERTAPE_HOME": str(tmp_path / "from-env")}
    assert load_settings(None, env=env).home == (tmp_path / "from-env").resolve()
    assert load_settings(tmp_path / "flag", env=env).home == (tmp_path / "flag").resolve()


def test_unknown_setting_suggests_the_nearest(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("recal_k = 5\n")
    with pytest.raises(UserError, match="Did you mean 'recall_k'"):
        load_settings(tmp_path, env={})


@pytest.mark.parametrize(
    "content", ["recall_k = 'many'\n", "recall_k = -1\n", "this is = not toml ["]
)
def test_bad_config_is_one_sentence(tmp_path: Path, content: str) -> None:
    (tmp_path / "config.toml").write_text(content)
    with pytest.raises(UserError):
        load_settings(tmp_path, env={})


def test_parse_time_and_iso_round_trip() -> None:
    assert parse_time("2023-05-08T13:56:00Z") == 1683554160.0
    assert iso(1683554160.0) == "2023-05-08T13:56:00Z"
    assert iso(1683554160.123456) == "2023-05-08T13:56:00.123456Z"
    assert parse_time(iso(1683554160.123456) or "") == 1683554160.123456
    with pytest.raises(UserError, match="ISO 8601"):
        parse_time("next tuesday")


def test_resolve_now_prefers_flag_then_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERTAPE_NOW", "2020-01-01T00:00:00Z")
    assert resolve_now(None) == 1577836800.0
    assert resolve_now("2021-01-01T00:00:00Z") == 1609459200.0
