from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from device import RUNTIMES, probe


def test_probe_reads_this_machine(tmp_path: Path) -> None:
    info = probe(tmp_path / "not" / "yet")
    assert info.cores >= 1
    assert info.ram_total_bytes > info.ram_available_bytes > 0
    assert info.disk_free_bytes > 0
    assert Path(info.disk_path).exists()
    assert set(info.runtimes) == set(RUNTIMES)
    assert info.runtimes["apsw"] is True  # a dependency, so always present


def test_probe_imports_no_runtime() -> None:
    code = (
        "import sys, json; from device import probe; probe(); "
        "print(json.dumps([m for m in ('onnxruntime','tokenizers','llama_cpp','mlx') "
        "if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
