"""What carries `papertape mcp`'s calls: stdout holds only the protocol, no network socket
is opened, and a running daemon takes the writes."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import apsw
import pytest

pytest.importorskip(
    "mcp", reason="mcp is not installed (scripts/setup installs it: pip install '.[mcp]')"
)


import agent.daemon.api
from tests.mcp_support import connected, data, server_command, server_env


def test_stdout_carries_only_the_protocol_even_with_debug_logging(
    home: Path, tmp_path: Path
) -> None:
    """A client that copies the SDK's framing by hand: a line of garbage in the middle, and
    the most talkative logging. Every line out must be JSON-RPC, the logs on stderr."""
    requests = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "by hand", "version": "0"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        "this line is not JSON",
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "remember", "arguments": {"text": "said by hand"}},
        },
        {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "stats"}},
    ]
    command = [sys.executable, "-m", "agent.cli", "-vv", "--home", str(home), "mcp"]
    errlog = tmp_path / "stderr"  # a file, not a pipe: debug logs must not fill a pipe
    with errlog.open("w") as err:
        server = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=err,
            env={**os.environ, **server_env(home)},
            text=True,
        )
    assert server.stdin
    assert server.stdout
    replies: list[dict[str, Any]] = []

    def send(batch: list[Any], last_id: int) -> None:
        """Send `batch`, then read until the reply to `last_id` arrives."""
        assert server.stdin
        assert server.stdout
        for request in batch:
            line = request if isinstance(request, str) else json.dumps(request)
            server.stdin.write(line + "\n")
        server.stdin.flush()
        while not any(reply.get("id") == last_id for reply in replies):
            line = server.stdout.readline()
            assert line, "the server closed stdout before answering"
            replies.append(json.loads(line))  # a line that is not JSON fails here

    # The server may run tool calls side by side: stats is asked once the note is stored.
    send(requests[:-1], last_id=2)
    send(requests[-1:], last_id=3)  # the last answer, then hang up
    rest, _ = server.communicate(timeout=60)  # closes stdin: the client hangs up
    log = errlog.read_text()
    assert server.returncode == 0, log
    replies += [json.loads(line) for line in rest.splitlines()]
    assert all(reply["jsonrpc"] == "2.0" for reply in replies)
    by_id = {reply["id"]: reply for reply in replies if "id" in reply}
    assert by_id[1]["result"]["serverInfo"]["version"] == metadata.version("papertape")
    stored_note = json.loads(by_id[2]["result"]["content"][0]["text"])
    assert stored_note["status"] == "stored"
    assert json.loads(by_id[3]["result"]["content"][0]["text"])["memories"] == 1
    assert "serving" in log  # the log went to stderr


def strace_works() -> str | None:
    """Why strace cannot watch the server here, or None when it can."""
    if shutil.which("strace") is None:
        return "strace is not installed (scripts/test installs it with apt-get where it can)"
    probe = subprocess.run(["strace", "-f", "-o", os.devnull, "true"], capture_output=True)
    if probe.returncode != 0:
        return f"strace cannot trace here: {probe.stderr.decode(errors='replace').strip()}"
    return None


# What a process may open without a network: local sockets and the kernel's own.
LOCAL_FAMILIES = {"AF_UNIX", "AF_LOCAL", "AF_NETLINK", "PF_UNIX", "PF_LOCAL", "PF_NETLINK"}


@pytest.mark.parametrize(
    "embedder", ["fake", pytest.param("minilm", marks=pytest.mark.integration)]
)
async def test_the_server_opens_no_network_socket(
    home: Path, tmp_path: Path, embedder: str
) -> None:
    reason = strace_works()
    if reason:
        pytest.skip(reason)
    trace = tmp_path / "trace"
    command = ["strace", "-f", "-qq", "-e", "trace=%network,execve", "-o", str(trace)]
    env = server_env(home, PAPERTAPE_EMBEDDER=embedder)
    async with connected(command + server_command(home), env, tmp_path / "err") as session:
        assert data(await session.call_tool("remember", {"text": "the spare key is in the shed"}))
        assert data(await session.call_tool("recall", {"query": "spare key"}))["results"]
        assert data(await session.call_tool("ask", {"question": "Where is the spare key?"}))
        assert data(await session.call_tool("stats", {}))["memories"] == 2
        await session.read_resource("papertape://timeline")
    calls = trace.read_text()
    assert "agent.cli" in calls  # strace saw the server start: it was watching
    store = apsw.Connection(str(home / "papertape.db"))
    row = store.execute("SELECT value FROM store_meta WHERE key = 'embedder'").fetchone()
    assert row is not None
    (used,) = row
    assert used == embedder  # and the server ran the embedder asked for
    assert not network_families(calls), calls


def network_families(trace: str) -> set[str]:
    """The address families of the sockets a trace shows opened, other than local ones."""
    return set(re.findall(r"\bsocket\((\w+)", trace)) - LOCAL_FAMILIES


def test_the_trace_reading_catches_a_network_socket() -> None:
    trace = (
        '12 execve("/usr/bin/python3", ["python3", "-m", "agent.cli"], ...) = 0\n'
        "12 socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0) = 3\n"
        "13 socket(AF_NETLINK, SOCK_RAW|SOCK_CLOEXEC, NETLINK_ROUTE) = 4\n"
        "13 socket(AF_INET6, SOCK_DGRAM|SOCK_CLOEXEC, IPPROTO_IP) = 5\n"
    )
    assert network_families(trace) == {"AF_INET6"}


def running_daemon(home: Path) -> Iterator[Any]:
    from tests.test_daemon import serve_in_thread, settings_for

    yield from serve_in_thread(settings_for(home))


async def test_with_the_daemon_running_calls_go_through_its_socket(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []
    dispatch = agent.daemon.api.dispatch

    def counting(daemon: Any, request: dict[str, Any], send: Any) -> Any:
        seen.append(request["op"])
        return dispatch(daemon, request, send)

    monkeypatch.setattr(agent.daemon.api, "dispatch", counting)
    daemon_runs = running_daemon(home)
    daemon = next(daemon_runs)
    try:
        async with connected(server_command(home), server_env(home), tmp_path / "err") as session:
            kept = data(await session.call_tool("remember", {"text": "kept by the daemon"}))
            found = data(await session.call_tool("recall", {"query": "kept"}))
            assert [r["id"] for r in found["results"]] == [kept["id"]]
            data(await session.call_tool("pin", {"ids": [kept["id"]]}))
            assert seen.count("note") == 1
            assert "recall" in seen
            assert "pin" in seen
            with daemon.lock:
                assert daemon.app.store.get(kept["id"]).pinned
            next(daemon_runs, None)  # the daemon stops; the server carries on in-process
            seen.clear()
            found = data(await session.call_tool("recall", {"query": "kept", "peek": True}))
            assert [r["id"] for r in found["results"]] == [kept["id"]]
            assert seen == []
            later = data(await session.call_tool("remember", {"text": "kept without it"}))
            assert later["id"] == kept["id"] + 1
    finally:
        next(daemon_runs, None)
