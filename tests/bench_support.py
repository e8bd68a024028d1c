"""Running a benchmark script as a person would: `python -m scripts.bench.NAME`, from the
repository root, with a bare PATH."""

from __future__ import annotations

import subprocess
import sys

from scripts.bench import common


def run_bench(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", f"scripts.bench.{module}", *args],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
        cwd=common.ROOT,
        check=False,
    )
