"""Imports run one way: tui -> agent -> {models, storage, device}. Checked, not remembered."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterable
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
        assert "socket.socket" not in text
        assert "connect" not in text
        assert "AF_" not in text


def test_the_socket_modules_use_unix_sockets_only() -> None:
    for name in UNIX_SOCKET_MODULES:
        text = (ROOT / name).read_text()
        assert "AF_INET" not in text
        assert "TCPServer" not in text
        assert "AF_INET6" not in text
        assert "AF_UNIX" in text or "UnixStreamServer" in text


def test_importing_the_cli_loads_no_runtime() -> None:
    wanted = sorted(RUNTIMES)
    code = f"import sys, agent.cli.main; print(','.join(m for m in {wanted!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


# Inside agent/: the answer path and the memory lifecycle are used by the fronts (cli,
# daemon) and know nothing of them; ingest knows neither the answer path nor the fronts.
SUBPACKAGE_FORBIDDEN = {
    "agent.answer": {"agent.cli", "agent.daemon"},
    "agent.memory": {"agent.cli", "agent.daemon", "agent.answer"},
    "agent.ingest": {"agent.cli", "agent.daemon", "agent.answer"},
    "agent.daemon": {"agent.cli"},
}
MAX_MODULE_LINES = 450


def module_imports(path: Path, modules: Iterable[str] = ()) -> set[str]:
    """Every agent module this one imports, at the top or inside a function; imports only
    a type checker reads (under `if TYPE_CHECKING:`) are left out, since they never run.
    `from package import module` counts as importing the module, when it is one of
    `modules`."""
    known = set(modules)
    tree = ast.parse(path.read_text(), str(path))
    type_only = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and ast.unparse(block.test) in {"TYPE_CHECKING"}
        for stmt in block.body
        for node in ast.walk(stmt)
    }
    names = set()
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                names.add(full if full in known else node.module)
        elif isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
    return {n for n in names if n.startswith("agent.")}


def agent_modules() -> dict[str, Path]:
    return {
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): path
        for path in (ROOT / "agent").rglob("*.py")
    }


@pytest.mark.parametrize("package", sorted(SUBPACKAGE_FORBIDDEN))
def test_agent_subpackages_import_one_way(package: str) -> None:
    for name, path in agent_modules().items():
        if name == package or name.startswith(package + "."):
            bad = {
                imported
                for imported in module_imports(path)
                for banned in SUBPACKAGE_FORBIDDEN[package]
                if imported == banned or imported.startswith(banned + ".")
            }
            assert not bad, f"{name} imports {sorted(bad)}"


def test_no_import_cycle_between_agent_modules() -> None:
    modules = agent_modules()
    graph = {
        name: {m for m in module_imports(path, modules) if m in modules and m != name}
        for name, path in modules.items()
    }
    done: set[str] = set()

    def visit(name: str, trail: list[str]) -> None:
        if name in trail:
            cycle = [*trail[trail.index(name) :], name]
            raise AssertionError("import cycle: " + " -> ".join(cycle))
        if name in done:
            return
        for imported in graph[name]:
            visit(imported, [*trail, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])


def test_no_module_is_over_the_size_limit() -> None:
    for package in ("agent", "storage", "models", "device", "tui", "scripts", "tests"):
        for path in (ROOT / package).rglob("*.py"):
            lines = len(path.read_text().splitlines())
            assert lines <= MAX_MODULE_LINES, f"{path.relative_to(ROOT)}: {lines} lines"


def test_migrations_call_no_live_storage_code() -> None:
    # An old store's upgrade must do what it did when written, whatever the layout is today.
    imported = {
        node.module
        for node in ast.walk(ast.parse((ROOT / "storage" / "migrations.py").read_text()))
        if isinstance(node, ast.ImportFrom) and node.module
    } | {
        alias.name
        for node in ast.walk(ast.parse((ROOT / "storage" / "migrations.py").read_text()))
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert {m for m in imported if m.startswith("storage")} <= {"storage.errors"}
