"""Imports run one way: tui -> agent -> {models, storage, device}. Checked, not remembered."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "models": {"agent", "tui", "storage", "device"},
    "storage": {"agent", "tui", "models", "device"},
    "device": {"agent", "tui", "models", "storage"},
    "agent": {"tui"},
    # The UI knows the agent's services and nothing below them (DESIGN.md).
    "tui": {"models", "storage", "device"},
}
RUNTIMES = {"onnxruntime", "tokenizers", "llama_cpp", "mlx", "faster_whisper", "rapidocr"}
NETWORK = {"requests", "httpx", "urllib3", "aiohttp", "huggingface_hub", "socket"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_lower_packages_do_not_import_upward(package: str) -> None:
    for path in (ROOT / package).rglob("*.py"):
        bad = imported_modules(path) & FORBIDDEN[package]
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_only_models_imports_model_runtimes() -> None:
    for package in ("agent", "storage", "device", "tui"):
        for path in (ROOT / package).rglob("*.py"):
            assert not imported_modules(path) & RUNTIMES, path


# The daemon's API is a Unix domain socket; these two modules may use socket, nothing else.
UNIX_SOCKET_MODULES = {"agent/daemon/api.py", "agent/daemon/client.py"}
# This one imports socket only to lower its has_ipv6 flag while a runtime is imported (so
# urllib3 opens no socket to probe for IPv6); it makes no socket.
SOCKET_FLAG_MODULES = {"models/offline.py"}


def test_no_network_libraries_in_the_product() -> None:
    for package in ("agent", "storage", "device", "models", "tui"):
        for path in (ROOT / package).rglob("*.py"):
            name = str(path.relative_to(ROOT))
            socket_ok = name in UNIX_SOCKET_MODULES | SOCKET_FLAG_MODULES
            allowed = {"socket"} if socket_ok else set()
            assert not (imported_modules(path) - allowed) & NETWORK, path


def test_the_flag_module_makes_no_socket() -> None:
    for name in SOCKET_FLAG_MODULES:
        text = (ROOT / name).read_text()
        assert "socket.socket" not in text and "connect" not in text and "AF_" not in text


def test_the_socket_modules_use_unix_sockets_only() -> None:
    for name in UNIX_SOCKET_MODULES:
        text = (ROOT / name).read_text()
        assert "AF_INET" not in text and "TCPServer" not in text and "AF_INET6" not in text
        assert "AF_UNIX" in text or "UnixStreamServer" in text


def test_importing_the_cli_loads_no_runtime() -> None:
    wanted = sorted(RUNTIMES)
    code = f"import sys, agent.cli.main; print(','.join(m for m in {wanted!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
