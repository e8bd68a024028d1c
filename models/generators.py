"""Which language models this machine can run, and loading one by name or path.

A model is named by the catalog (`smollm2-135m`), by a path (a .gguf file, or an MLX model
folder), by what Ollama, LM Studio or the Hugging Face cache call it, or as `fake` (the
scripted test generator). Every file is checked before it is loaded: a catalogued one against
its pinned sha256, one from a store that names files by digest against that digest, and any
GGUF against its own header, so a damaged file is reported as such.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from models import catalog
from models.errors import CorruptModelError, UnknownModelError
from models.generator import Generator
from models.gguf_file import read_gguf
from models.local_models import FoundModel, find_local_models
from models.names import closest_hint

FAKE = "fake"


@dataclass(frozen=True)
class ModelSource:
    name: str
    backend: str  # llama, mlx or fake
    path: Path | None
    origin: str  # catalog, path, ollama, lm-studio, huggingface, test
    size_bytes: int
    quantization: str
    sha256: str | None  # pinned or store-given digest; None when there is nothing to check
    installed: bool
    default: bool = False


def _from_catalog(entry: catalog.ModelFile, models_dir: Path | None) -> ModelSource:
    path = catalog.locate(entry, models_dir)
    return ModelSource(
        name=entry.name,
        backend="llama",
        path=path,
        origin="catalog",
        size_bytes=path.stat().st_size if path else entry.size_bytes,
        quantization=entry.quantization,
        sha256=entry.sha256,
        installed=path is not None or (entry.assembled and catalog.parts_installed(entry)),
        default=entry.default,
    )


def _from_found(found: FoundModel) -> ModelSource:
    return ModelSource(
        name=found.name,
        backend=found.backend,
        path=found.path,
        origin=found.origin,
        size_bytes=found.size_bytes,
        quantization=found.quantization,
        sha256=found.sha256,
        installed=True,
    )


def list_generators(
    models_dir: Path | None, env: Mapping[str, str] | None = None, home: Path | None = None
) -> list[ModelSource]:
    """The catalogued generators (installed or not), then models found on this machine."""
    listed = [_from_catalog(e, models_dir) for e in catalog.MODEL_FILES if e.role == "generator"]
    return listed + [_from_found(f) for f in find_local_models(env, home)]


def _from_path(path: Path) -> ModelSource:
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise CorruptModelError(
                f"{path} is a folder without config.json: not an MLX model folder."
            )
        size = sum(p.stat().st_size for p in path.glob("*.safetensors"))
        return ModelSource(path.name, "mlx", path, "path", size, "mlx", None, True)
    info = read_gguf(path)  # raises CorruptModelError for anything that is not a whole GGUF
    name = path.stem
    return ModelSource(name, "llama", path, "path", info.size_bytes, info.quantization, None, True)


def resolve_generator(
    spec: str,
    models_dir: Path | None,
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
) -> ModelSource:
    """The model `spec` names. Raises UnknownModelError with the valid names and the closest."""
    if spec == FAKE:
        return ModelSource(FAKE, "fake", None, "test", 0, "none", None, True)
    for entry in catalog.MODEL_FILES:
        if entry.role == "generator" and entry.name == spec:
            return _from_catalog(entry, models_dir)
    path = Path(spec).expanduser()
    if path.exists() and ("/" in spec or path.suffix == ".gguf" or path.is_dir()):
        return _from_path(path.resolve())
    found = list_generators(models_dir, env, home)
    for source in found:
        if source.name == spec:
            return source
    if spec.endswith(".gguf") or spec.startswith(("/", ".", "~")):
        raise UnknownModelError(f"there is no model file at {path}.")
    names = [s.name for s in found]
    raise UnknownModelError(
        f"there is no model called {spec!r}; valid: {', '.join(names)}, or a path to a .gguf "
        "file or an MLX model folder." + closest_hint(spec, names)
    )


def checked_path(source: ModelSource, models_dir: Path | None) -> Path:
    """The model's file, verified: catalogued ones by sha256 (assembling parts if needed)."""
    if source.origin == "catalog":
        return catalog.verified_path(catalog.model_file(source.name, "generator"), models_dir)
    assert source.path is not None
    if source.sha256 and source.backend == "llama":
        catalog.verify_digest(source.path, source.sha256, source.name)
    if source.backend == "llama":
        read_gguf(source.path)
    return source.path


def load_generator(
    source: ModelSource,
    path: Path | None,
    *,
    context_tokens: int,
    threads: int,
) -> Generator:
    """Load a resolved, checked model with the chosen context window and threads."""
    if source.backend == "fake":
        from models.fake_generator import ScriptedGenerator

        return ScriptedGenerator(context_tokens=context_tokens)
    assert path is not None
    if source.backend == "mlx":
        from models.mlx_generator import MLXGenerator

        return MLXGenerator(path, name=source.name, context_tokens=context_tokens)
    from models.llama_generator import LlamaGenerator

    return LlamaGenerator(path, name=source.name, context_tokens=context_tokens, threads=threads)
