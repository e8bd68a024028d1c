"""Helpers shared by the MCP tests: the server's command and environment, a connected
client, results read back."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip(
    "mcp", reason="mcp is not installed (scripts/setup installs it: pip install '.[mcp]')"
)

from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.types import CallToolResult, TextContent

from agent.service import Papertape
from agent.settings import Settings, load_settings
from models.fake_embedder import FakeEmbedder
from storage import Memory

ROOT = Path(__file__).resolve().parent.parent


NOW = "2024-03-01T12:00:00Z"


TOOLS = {"recall", "ask", "remember", "forget", "pin", "unpin", "current", "stats"}


# A GitHub token of the right shape (ghp_ and 36 letters and digits).
SECRET = "ghp_" + "Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0Lm9Nb8V"


def server_env(home: Path, **extra: str) -> dict[str, str]:
    """What the server needs, and no more: stdio_client does not pass this environment on."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    return {
        "PYTHONPATH": path,
        "PAPERTAPE_HOME": str(home),
        "PAPERTAPE_EMBEDDER": "fake",
        "PAPERTAPE_MODEL": "fake",
        "PAPERTAPE_NOW": NOW,
        "TZ": "UTC",
        **extra,
    }


def server_command(home: Path) -> list[str]:
    return [sys.executable, "-m", "agent.cli", "--home", str(home), "mcp"]


@asynccontextmanager
async def connected(
    command: list[str], env: dict[str, str], errlog: Path
) -> AsyncIterator[ClientSession]:
    """A client session with a freshly started server; the server's stderr goes to errlog."""
    params = StdioServerParameters(command=command[0], args=command[1:], env=env, cwd=str(ROOT))
    with errlog.open("a") as err:
        async with (
            stdio_client(params, errlog=err) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            yield session


def data(result: CallToolResult) -> Any:
    assert not result.is_error, text(result)
    return json.loads(text(result))


def text(result: CallToolResult) -> str:
    (block,) = result.content
    assert isinstance(block, TextContent)
    return block.text


def settings_of(home: Path) -> Settings:
    return load_settings(home, overrides={"embedder": "fake"}, env={})


def stored(home: Path) -> dict[int, Memory]:
    """What the store holds now, read beside the running server (SQLite's WAL allows it)."""
    with Papertape(settings_of(home), embedder=FakeEmbedder()) as app:
        return {m.id: m for m in app.store.iter_memories()}
