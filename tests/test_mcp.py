"""`papertape mcp`, driven by the MCP SDK's own client over stdio, checked against the store."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any, get_args, get_type_hints

import pytest

pytest.importorskip(
    "mcp", reason="mcp is not installed (scripts/setup installs it: pip install '.[mcp]')"
)

from mcp.shared.exceptions import MCPError

from agent.cli.mcp import MemoryTools, build_server
from agent.clock import parse_time
from agent.service import Papertape
from agent.settings import Settings, load_settings
from models.fake_embedder import FakeEmbedder
from storage import TIERS, Memory
from tests.mcp_support import (
    NOW,
    ROOT,
    SECRET,
    TOOLS,
    connected,
    data,
    server_command,
    server_env,
    settings_of,
    stored,
    text,
)


async def test_each_tool_does_what_the_store_then_shows(home: Path, tmp_path: Path) -> None:
    async with connected(server_command(home), server_env(home), tmp_path / "err") as session:
        listed = await session.list_tools()
        assert {tool.name for tool in listed.tools} == TOOLS

        note = data(
            await session.call_tool("remember", {"text": "The dentist moved to Thursday 3pm."})
        )
        assert note["status"] == "stored"
        assert note["redacted"] == 0
        dentist = note["id"]
        memories = stored(home)
        assert memories[dentist].text == "The dentist moved to Thursday 3pm."
        assert memories[dentist].source == "mcp"
        assert memories[dentist].occurred_at == parse_time(NOW)

        old = data(
            await session.call_tool(
                "remember",
                {"text": "Bought a blue bike.", "time": "2023-05-07T10:00:00Z", "source": "diary"},
            )
        )
        bike = stored(home)[old["id"]]
        assert bike.source == "diary"
        assert bike.occurred_at == parse_time("2023-05-07T10:00:00Z")
        again = data(await session.call_tool("remember", {"text": "Bought a blue bike."}))
        assert again == {
            "id": old["id"],
            "status": "duplicate",
            "redacted": 0,
            "redacted_kinds": [],
        }

        found = data(await session.call_tool("recall", {"query": "dentist", "k": 1}))
        assert found["query"] == "dentist"
        assert [r["id"] for r in found["results"]] == [dentist]
        assert found["results"][0]["text"] == memories[dentist].text
        assert stored(home)[dentist].recall_count == 1  # recalling strengthens, as the CLI does
        await session.call_tool("recall", {"query": "dentist", "peek": True})
        assert stored(home)[dentist].recall_count == 1

        async def recalled(**filters: Any) -> list[int]:
            args = {"query": "dentist bike", **filters}
            return [r["id"] for r in data(await session.call_tool("recall", args))["results"]]

        assert set(await recalled()) == {dentist, old["id"]}
        assert await recalled(to_date="2023-05-07") == [old["id"]]  # a date takes in its day
        assert await recalled(to_date="2023-05-06") == []
        assert await recalled(from_date="2024-01-01") == [dentist]
        assert await recalled(kind="chat") == []
        assert await recalled(tier="hazy") == []
        assert set(await recalled(kind="text", tier="sharp")) == {dentist, old["id"]}

        answer = data(await session.call_tool("ask", {"question": "When is the dentist?"}))
        assert answer["status"] == "answered"
        assert "Thursday" in answer["answer"]
        assert answer["citations"] == [dentist]
        assert [m["id"] for m in answer["cited_memories"]] == [dentist]
        (chat,) = [m for m in stored(home).values() if m.kind == "chat"]
        assert "When is the dentist?" in chat.text
        assert "Thursday" in chat.text
        other = data(await session.call_tool("ask", {"question": "Who painted the ceiling?"}))
        assert other["status"] in ("answered", "not_in_memories", "guess")
        assert set(other["citations"]) <= set(stored(home))
        assert "supported" in other
        assert other["not_of"] is None
        peeked = data(
            await session.call_tool("ask", {"question": "When is the dentist?", "peek": True})
        )
        assert peeked["status"] == "answered"
        assert sum(m.kind == "chat" for m in stored(home).values()) == 2  # the peek stored none

        assert data(await session.call_tool("pin", {"ids": [dentist]})) == {"pinned": [dentist]}
        assert stored(home)[dentist].pinned
        assert data(await session.call_tool("unpin", {"ids": [dentist]})) == {"unpinned": [dentist]}
        assert not stored(home)[dentist].pinned
        with Papertape(settings_of(home), embedder=FakeEmbedder()) as app:
            app.store.link(old["id"], dentist, "supersedes")  # an update linked by mistake
        found = data(await session.call_tool("recall", {"query": "dentist", "k": 1}))
        assert found["results"][0]["replaced_by"] == old["id"]
        restored = data(await session.call_tool("current", {"ids": [dentist]}))
        assert restored == {"current": [{"id": dentist, "no_longer_updated_by": [old["id"]]}]}
        found = data(await session.call_tool("recall", {"query": "dentist", "k": 1}))
        assert "replaced_by" not in found["results"][0]

        stats = data(await session.call_tool("stats", {}))
        assert stats["memories"] == len(stored(home)) == 4
        assert stats["kinds"]["chat"]["count"] == 2
        assert stats["tiers"]["sharp"]["count"] == 4

        refused = await session.call_tool("forget", {"ids": [old["id"]]})
        assert refused.is_error
        assert "confirm" in text(refused)
        assert old["id"] in stored(home)
        gone = data(await session.call_tool("forget", {"ids": [old["id"]], "confirm": True}))
        assert gone == {"forgotten": [old["id"]]}
        assert old["id"] not in stored(home)
        follow = {"question": "And at what time?", "session": answer["session"]}
        followed = data(await session.call_tool("ask", follow))
        assert followed["session"] == answer["session"]  # the same conversation goes on
        turns = [m for m in stored(home).values() if m.source == f"chat:{answer['session']}"]
        assert len(turns) == 2

        templates = await session.list_resource_templates()
        assert [t.uri_template for t in templates.resource_templates] == ["papertape://memory/{id}"]
        resources = await session.list_resources()
        assert [str(r.uri) for r in resources.resources] == ["papertape://timeline"]
        read = await session.read_resource(f"papertape://memory/{dentist}")
        shown = json.loads(read.contents[0].text)  # type: ignore[union-attr]
        assert shown["id"] == dentist
        assert shown["text"] == memories[dentist].text
        assert shown["pinned"] is False
        assert shown["tier"] == "sharp"
        assert any(link["to"] == dentist for link in shown["links"])  # the chat turn cites it
        timeline = await session.read_resource("papertape://timeline")
        newest = json.loads(timeline.contents[0].text)["memories"]  # type: ignore[union-attr]
        assert [m["id"] for m in newest] == sorted(stored(home), reverse=True)
        with pytest.raises(MCPError, match="no memory with id 999"):
            await session.read_resource("papertape://memory/999")
        with pytest.raises(MCPError, match="not a memory id"):
            await session.read_resource("papertape://memory/first")


async def test_bad_arguments_get_error_results_and_the_server_keeps_serving(
    home: Path, tmp_path: Path, cli
) -> None:
    async with connected(server_command(home), server_env(home), tmp_path / "err") as session:
        sentences: list[tuple[str, dict[str, Any], str]] = [
            ("recall", {"query": "  "}, "the query is empty"),
            ("recall", {"query": "x", "kind": "txt"}, "Did you mean 'text'?"),
            ("recall", {"query": "x", "from_date": "last week"}, "cannot read from_date"),
            (
                "recall",
                {"query": "x", "from_date": "2024-02-01", "to_date": "2024-01-01"},
                "is not before",
            ),
            ("remember", {"text": " "}, "the note is empty: give some text."),
            ("remember", {"text": "x", "time": "soon"}, "cannot read time"),
            ("ask", {"question": ""}, "the question is empty"),
            ("pin", {"ids": [999]}, "no memory with id 999"),
            ("forget", {"ids": [999], "confirm": True}, "no memory with id 999"),
        ]
        for tool, args, message in sentences:
            result = await session.call_tool(tool, args)
            assert result.is_error, (tool, args, text(result))
            assert message in text(result), (tool, args, text(result))
            assert "Traceback" not in text(result)
        # Wrong types and shapes are caught by the tools' schemas.
        malformed: list[tuple[str, dict[str, Any]]] = [
            ("recall", {}),
            ("recall", {"query": "x", "k": "many"}),
            ("recall", {"query": "x", "k": 0}),
            ("recall", {"query": "x", "tier": "lukewarm"}),
            ("forget", {"ids": "all", "confirm": True}),
            ("pin", {"ids": []}),
            ("no_such_tool", {"x": 1}),
        ]
        for tool, args in malformed:
            result = await session.call_tool(tool, args)
            assert result.is_error, (tool, args)
            assert "\n" not in text(result), (tool, args, text(result))  # one sentence
            assert "pydantic" not in text(result), (tool, args, text(result))
        k_zero = await session.call_tool("recall", {"query": "x", "k": 0})
        assert text(k_zero) == (
            "k is not what recall takes: input should be greater than or equal to 1."
        )
        # The same sentence the command line prints, word for word.
        pin = await session.call_tool("pin", {"ids": [999]})
        assert cli("--home", str(home), "pin", "999").err == f"papertape: {text(pin)}\n"
        # And it is still serving.
        assert data(await session.call_tool("remember", {"text": "still here"}))["id"] == 1
        assert data(await session.call_tool("stats", {}))["memories"] == 1


async def test_remember_redacts_a_secret_as_note_does(home: Path, tmp_path: Path) -> None:
    async with connected(server_command(home), server_env(home), tmp_path / "err") as session:
        result = data(
            await session.call_tool("remember", {"text": f"The deploy token is {SECRET} ok"})
        )
    assert result["redacted"] == 1
    assert result["redacted_kinds"] == ["github token"]
    (kept,) = stored(home).values()
    assert SECRET not in kept.text
    assert SECRET[4:20] not in kept.text
    assert kept.text == "The deploy token is [redacted github token] ok"
    for path in home.rglob("*"):  # nor anywhere else in the home: not the WAL, not a log
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    assert SECRET not in (tmp_path / "err").read_text()  # nor in the server's stderr


def readme_config() -> dict[str, Any]:
    """The client configuration the README gives, as a person would copy it."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Other AI apps use it: `papertape mcp`", 1)[1]
    block = re.search(r"```json\n(.*?)```", section, re.DOTALL)
    assert block, "the README's MCP section has no JSON block"
    config: dict[str, Any] = json.loads(block.group(1))
    return config


@pytest.mark.parametrize(
    ("embedder", "model"),
    [
        ("fake", "fake"),
        # The real embedder and the smallest real model (not "auto", which may pick a larger
        # one installed here): what a person gets from the README.
        pytest.param("minilm", "smollm2-135m", marks=pytest.mark.integration),
    ],
)
async def test_the_readme_configuration_remembers_recalls_and_asks(
    home: Path, tmp_path: Path, embedder: str, model: str
) -> None:
    server = readme_config()["mcpServers"]["papertape"]
    assert server["command"].endswith("/.venv/bin/papertape")
    assert server["args"] == ["mcp"]
    assert set(server["env"]) == {"PAPERTAPE_HOME"}
    # The placeholders a person fills in: this venv's papertape and a home of our own.
    command = Path(sys.executable).parent / "papertape"
    assert command.exists(), f"{command} is missing: run scripts/setup"
    env = {
        **server_env(home, PAPERTAPE_EMBEDDER=embedder, PAPERTAPE_MODEL=model),
        **server["env"],
        "PAPERTAPE_HOME": str(home),
    }
    async with connected([str(command), *server["args"]], env, tmp_path / "err") as session:
        listed = await session.list_tools()
        assert {tool.name for tool in listed.tools} == TOOLS
        kept = data(await session.call_tool("remember", {"text": "The bike lock code is 4711."}))
        await session.call_tool("remember", {"text": "Lunch with Sam on Friday at noon."})
        found = data(await session.call_tool("recall", {"query": "bike lock code", "k": 1}))
        assert [r["id"] for r in found["results"]] == [kept["id"]]
        answer = data(await session.call_tool("ask", {"question": "What is my bike lock code?"}))
        assert answer["status"] in ("answered", "not_in_memories", "guess")
        if answer["status"] == "answered":
            known = {m.id for m in stored_memories(home, embedder)}
            assert answer["citations"]
            assert set(answer["citations"]) <= known
    assert "The bike lock code is 4711." in [m.text for m in stored_memories(home, embedder)]
    if model == "fake":  # the scripted model quotes the memory it was shown
        assert answer["status"] == "answered"
        assert answer["citations"] == [kept["id"]]


def stored_memories(home: Path, embedder: str) -> list[Memory]:
    settings = load_settings(home, overrides={"embedder": embedder}, env={})
    with Papertape(settings) as app:
        return list(app.store.iter_memories())


async def test_every_tool_and_argument_has_a_description(settings: Settings) -> None:
    server = build_server(MemoryTools(settings))
    tools = await server.list_tools()
    assert {tool.name for tool in tools} == TOOLS
    for tool in tools:
        assert tool.description, tool.name
        assert len(tool.description.split()) >= 8, tool.name
        for name, schema in tool.input_schema.get("properties", {}).items():
            assert schema.get("description"), f"{tool.name}.{name} has no description"
    for template in await server.list_resource_templates():
        assert template.description, template.uri_template
    for resource in await server.list_resources():
        assert resource.description, resource.uri


def test_the_tier_choices_are_the_stores_tiers() -> None:
    annotated = get_type_hints(MemoryTools.recall, include_extras=True)["tier"]
    literal, _none = get_args(get_args(annotated)[0])
    assert get_args(literal) == TIERS


def test_mcp_help_says_what_it_serves_and_how_to_configure_it(cli) -> None:
    result = cli("mcp", "--help")
    assert result.code == 0
    for word in ("Model Context Protocol", "recall", "remember", "papertape://memory/{id}"):
        assert word in result.out, word
    assert '"args": ["mcp"]' in result.out
    assert "PAPERTAPE_HOME" in result.out


def test_without_the_sdk_mcp_is_one_sentence(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in sys.modules if n == "mcp" or n.startswith("mcp.")]:
        monkeypatch.setitem(sys.modules, name, None)  # as if the SDK were not installed
    monkeypatch.delitem(sys.modules, "agent.cli.mcp")
    result = cli("mcp")
    assert result.code == 1
    assert "needs the MCP SDK" in result.err
    assert len(result.err.strip().splitlines()) == 1
