"""No network means none: every system call that makes a socket is watched with strace.

Each command runs as its own process under `strace -f -e trace=network`, with the real
models (MiniLM, Whisper through faster-whisper and its VAD, rapidocr, SmolLM2) and HOME
pointed at an empty folder. A socket of any family but AF_UNIX (the daemon's API) and
AF_NETLINK (the kernel's own interfaces), or a connect to an internet address, fails the
test; so does anything written under ~/.cache/Microsoft (onnxruntime's telemetry store).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_audio import speak
from tests.test_daemon import wait_until
from tests.test_screenshots import screen

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        shutil.which("strace") is None, reason="strace is not installed (scripts/test installs it)"
    ),
    pytest.mark.skipif(
        shutil.which("espeak-ng") is None,
        reason="espeak-ng is not installed (scripts/test installs it)",
    ),
]

ALLOWED = {"AF_UNIX", "AF_LOCAL", "AF_NETLINK"}
SOCKET = re.compile(r"\bsocket\(([A-Z_0-9]+)")
CONNECT = re.compile(r"\bconnect\(\d+, \{sa_family=(AF_INET6?)")
NOW = "2024-03-01T12:00:00Z"


def network_use(trace: Path) -> list[str]:
    """The lines of an strace log that reach beyond this machine's own sockets."""
    found = []
    for line in trace.read_text(errors="replace").splitlines():
        made = SOCKET.search(line)
        if (made and made.group(1) not in ALLOWED) or CONNECT.search(line):
            found.append(line.strip())
    return found


@pytest.fixture
def traced(tmp_path: Path):
    user_home = tmp_path / "user"
    user_home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERTAPE_")}
    env.update(
        HOME=str(user_home),
        PAPERTAPE_HOME=str(tmp_path / "papertape"),
        PAPERTAPE_NOW=NOW,
        PYTHONPATH=os.pathsep.join(sys.path),
    )
    env.pop("XDG_CACHE_HOME", None)
    logs: list[Path] = []

    def command(*args: str, background: bool = False):
        log = tmp_path / f"strace-{len(logs)}.log"
        logs.append(log)
        argv = ["strace", "-f", "-e", "trace=network", "-o", str(log)]
        argv += [sys.executable, "-m", "agent.cli", *args]
        if background:
            return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, (args, done.stderr)
        return done

    return command, logs, user_home


def test_ingest_recall_ask_and_the_daemon_stay_off_the_network(traced, tmp_path: Path) -> None:
    run, logs, user_home = traced
    files = tmp_path / "files"
    files.mkdir()
    (files / "note.txt").write_text("The spare key is under the blue flowerpot.")
    speak(files / "memo.wav", "The plumber comes on Friday morning.")
    screen(files / "shot.png", ["Invoice 2231 from Northwind is due on 30 June"])

    for name in ("note.txt", "memo.wav", "shot.png"):
        assert "stored" in run("ingest", str(files / name)).stdout
    assert "plumber" in run("recall", "plumber friday").stdout.lower()
    run("ask", "--model", "smollm2-135m", "Where is the spare key?")

    daemon = run("daemon", "run", background=True)
    try:
        socket_file = tmp_path / "papertape" / "papertape.sock"
        wait_until(socket_file.exists, timeout=120, what="the daemon serving")
        run("note", "The window cleaner comes in May.")
        assert "window cleaner" in run("recall", "window cleaner").stdout
    finally:
        run("daemon", "stop")
        daemon.communicate(timeout=300)

    assert daemon.returncode == 0
    assert len(logs) == 9
    for log in logs:
        assert network_use(log) == [], log
    assert not (user_home / ".cache" / "Microsoft").exists()
    assert list(user_home.rglob("*onnxruntime*")) == []


def test_the_trace_check_sees_an_internet_socket(tmp_path: Path) -> None:
    # The check itself can fail: a process that opens a UDP socket is caught.
    log = tmp_path / "udp.log"
    subprocess.run(
        [
            "strace",
            "-f",
            "-e",
            "trace=network",
            "-o",
            str(log),
            sys.executable,
            "-c",
            "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).close()",
        ],
        check=True,
        timeout=60,
    )
    assert any("AF_INET" in line for line in network_use(log))


@pytest.mark.needs("e5-small-q4")
def test_the_multilingual_embedder_stays_off_the_network(traced, tmp_path: Path) -> None:
    run, logs, _ = traced
    home = tmp_path / "papertape"
    home.mkdir(mode=0o700)
    (home / "config.toml").write_text('embedder = "e5-small"\n')
    (home / "config.toml").chmod(0o600)
    run("note", "Der Zahnarzttermin ist am Donnerstag um drei.")
    assert "Zahnarzttermin" in run("recall", "when is the dentist appointment").stdout
    assert len(logs) == 2
    for log in logs:
        assert network_use(log) == [], log
