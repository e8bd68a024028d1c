"""What this machine has: OS, CPU and its features, cores, RAM, free disk, runtimes present."""

from __future__ import annotations

import importlib.util
import os
import platform
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

# Import name -> what papertape uses it for. Checked with find_spec, never imported.
RUNTIMES: dict[str, str] = {
    "apsw": "storage (SQLite)",
    "sqlite_vec": "vector search",
    "onnxruntime": "embedder (ONNX)",
    "tokenizers": "embedder tokenizer",
    "llama_cpp": "generator (GGUF)",
    "mlx": "generator (Apple MLX)",
    "faster_whisper": "transcriber",
    "rapidocr": "OCR",
    "textual": "terminal UI",
}

_FEATURES = ("avx", "avx2", "avx512f", "fma", "f16c", "sse4_2", "neon", "asimd", "sve")


@dataclass(frozen=True)
class DeviceInfo:
    os: str
    os_release: str
    machine: str
    cpu: str
    cpu_features: tuple[str, ...]
    cores: int
    ram_total_bytes: int
    ram_available_bytes: int
    disk_free_bytes: int
    disk_path: str
    apple_silicon: bool
    python: str
    runtimes: dict[str, bool]


def _read(path: str) -> str:
    try:
        return Path(path).read_text(errors="replace")
    except OSError:
        return ""


def _sysctl(name: str) -> str:
    try:
        out = subprocess.run(
            ["sysctl", "-n", name], capture_output=True, text=True, timeout=2, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip()


def _cpu_linux() -> tuple[str, tuple[str, ...]]:
    name, flags = "", set[str]()
    for line in _read("/proc/cpuinfo").splitlines():
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key in ("model name", "hardware", "cpu model") and not name:
            name = value.strip()
        elif key in ("flags", "features") and not flags:
            flags = set(value.split())
    return name, tuple(f for f in _FEATURES if f in flags)


def _memory_linux() -> tuple[int, int]:
    values = {}
    for line in _read("/proc/meminfo").splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            values[key] = int(parts[0]) * 1024
    return values.get("MemTotal", 0), values.get("MemAvailable", values.get("MemFree", 0))


def _memory_posix() -> tuple[int, int]:
    try:
        page = os.sysconf("SC_PAGE_SIZE")
        total = page * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0, 0
    try:
        available = page * os.sysconf("SC_AVPHYS_PAGES")
    except (ValueError, OSError):
        available = 0
    return total, available


def probe(disk_path: Path | str | None = None) -> DeviceInfo:
    """Read the machine. `disk_path` is where free space is measured (the papertape home)."""
    system = platform.system()
    machine = platform.machine()
    if system == "Linux":
        cpu, features = _cpu_linux()
        ram_total, ram_available = _memory_linux()
    else:
        cpu = _sysctl("machdep.cpu.brand_string") if system == "Darwin" else platform.processor()
        features = ("neon",) if machine in ("arm64", "aarch64") else ()
        ram_total, ram_available = _memory_posix()
        if system == "Darwin" and not ram_total:
            ram_total = int(_sysctl("hw.memsize") or 0)
    target = Path(disk_path) if disk_path is not None else Path.home()
    while not target.exists() and target != target.parent:
        target = target.parent  # the home may not exist yet: measure the disk it will be on
    return DeviceInfo(
        os=system,
        os_release=platform.release(),
        machine=machine,
        cpu=cpu or platform.processor() or machine,
        cpu_features=features,
        cores=os.cpu_count() or 1,
        ram_total_bytes=ram_total,
        ram_available_bytes=ram_available,
        disk_free_bytes=shutil.disk_usage(target).free,
        disk_path=str(target),
        apple_silicon=system == "Darwin" and machine == "arm64",
        python=platform.python_version(),
        runtimes={name: importlib.util.find_spec(name) is not None for name in RUNTIMES},
    )
