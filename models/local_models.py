"""Models already on this machine: GGUF files in the Ollama store, LM Studio's model folders
and the Hugging Face cache, and MLX model folders in that cache.

Only folders are read; nothing is downloaded. Where the store names a file by its sha256
(Ollama's blobs, the Hugging Face cache's blobs) that digest is kept, so the file can be
checked before use like a catalogued one.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from models.errors import ModelError
from models.gguf_file import read_gguf

_QUANT = re.compile(r"(?i)(?<![A-Z0-9])(IQ\d_[A-Z]+|Q\d_K_[SML]|Q\d_K|Q\d_\d|BF16|F16|F32)")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class FoundModel:
    name: str
    path: Path
    backend: str  # "llama" (a GGUF file) or "mlx" (a folder of safetensors)
    origin: str  # ollama, lm-studio, huggingface
    size_bytes: int
    quantization: str
    sha256: str | None  # the digest its store names it by, when it has one


def quantization_of(path: Path) -> str:
    match = _QUANT.search(path.name)
    if match:
        return match.group(1).upper()
    try:
        return read_gguf(path).quantization
    except ModelError:
        return "unreadable"


def _size(path: Path) -> int:
    try:
        if path.is_dir():
            return sum(p.stat().st_size for p in path.glob("*.safetensors"))
        return path.stat().st_size
    except OSError:
        return 0


def _ollama(root: Path) -> Iterator[FoundModel]:
    manifests = root / "manifests"
    if not manifests.is_dir():
        return
    for manifest in sorted(p for p in manifests.rglob("*") if p.is_file()):
        try:
            layers = json.loads(manifest.read_text(encoding="utf-8")).get("layers", [])
        except (OSError, ValueError, AttributeError):
            continue
        for layer in layers:
            if not isinstance(layer, dict) or not str(layer.get("mediaType", "")).endswith(
                ".model"
            ):
                continue
            digest = str(layer.get("digest", "")).removeprefix("sha256:")
            blob = root / "blobs" / f"sha256-{digest}"
            if not blob.is_file():
                continue
            parts = manifest.relative_to(manifests).parts  # registry/namespace/model/tag
            model, tag = parts[-2], parts[-1]
            namespace = parts[-3] if len(parts) >= 3 and parts[-3] != "library" else ""
            name = f"{namespace + '/' if namespace else ''}{model}:{tag}"
            yield FoundModel(
                name,
                blob,
                "llama",
                "ollama",
                _size(blob),
                quantization_of(blob),
                digest if _HEX64.match(digest) else None,
            )


def _lm_studio(root: Path) -> Iterator[FoundModel]:
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*.gguf")):
        if "mmproj" in path.name.lower():
            continue  # a vision projector, not a language model
        yield FoundModel(
            path.stem, path, "llama", "lm-studio", _size(path), quantization_of(path), None
        )


def _huggingface(root: Path) -> Iterator[FoundModel]:
    if not root.is_dir():
        return
    for repo in sorted(root.glob("models--*")):
        repo_name = repo.name.removeprefix("models--").replace("--", "/")
        for snapshot in sorted((repo / "snapshots").glob("*")):
            for path in sorted(snapshot.rglob("*.gguf")):
                if "mmproj" in path.name.lower():
                    continue
                blob = path.resolve()
                digest = blob.name if _HEX64.match(blob.name) else None
                yield FoundModel(
                    f"{repo_name}/{path.name}",
                    path,
                    "llama",
                    "huggingface",
                    _size(path),
                    quantization_of(path),
                    digest,
                )
            if (snapshot / "config.json").is_file() and any(snapshot.glob("*.safetensors")):
                yield FoundModel(
                    repo_name, snapshot, "mlx", "huggingface", _size(snapshot), "mlx", None
                )


def search_roots(env: Mapping[str, str] | None = None, home: Path | None = None) -> dict[str, Path]:
    """Where each application keeps its models, honouring their own environment variables."""
    environ = os.environ if env is None else env
    user = home or Path.home()
    hf_home = Path(environ.get("HF_HOME", user / ".cache" / "huggingface"))
    return {
        "ollama": Path(environ.get("OLLAMA_MODELS", user / ".ollama" / "models")),
        "lm-studio": user / ".lmstudio" / "models",
        "lm-studio-legacy": user / ".cache" / "lm-studio" / "models",
        "huggingface": Path(environ.get("HF_HUB_CACHE", hf_home / "hub")),
    }


def find_local_models(
    env: Mapping[str, str] | None = None, home: Path | None = None
) -> list[FoundModel]:
    roots = search_roots(env, home)
    found = [
        *_ollama(roots["ollama"]),
        *_lm_studio(roots["lm-studio"]),
        *_lm_studio(roots["lm-studio-legacy"]),
        *_huggingface(roots["huggingface"]),
    ]
    unique: dict[Path, FoundModel] = {}
    for model in found:
        unique.setdefault(model.path.resolve(), model)
    return list(unique.values())
