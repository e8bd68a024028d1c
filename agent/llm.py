"""Pick and load the language model: the person's choice, or the device plan's.

Errors a person can fix by choosing differently (an unknown name, a damaged file, a file that
is not the pinned one, a model too big for free memory) are UserErrors, exit 2; a model that is
simply not installed yet is a Failure that says how to install it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

from agent.errors import Failure, UserError
from agent.settings import Settings
from device import DeviceInfo, GeneratorPlan, ModelOption, choose_generator, plan_for
from device.plan import headroom_bytes
from models.errors import (
    ChecksumError,
    CorruptModelError,
    ModelError,
    UnknownModelError,
)
from models.generator import Generator
from models.generators import (
    ModelSource,
    checked_path,
    list_generators,
    load_generator,
    resolve_generator,
)
from models.gguf_file import read_gguf

AUTO = "auto"


@dataclass(frozen=True)
class LoadedModel:
    generator: Generator
    source: ModelSource
    plan: GeneratorPlan
    path: Path | None  # the verified file or folder it was loaded from


def given_model(generator: Generator) -> LoadedModel:
    """A generator handed in by the caller (tests, benchmarks), described like a loaded one."""
    source = ModelSource(generator.name, "given", None, "caller", 0, "unknown", None, True)
    plan = GeneratorPlan(
        generator.name, "given", 1, generator.context_tokens, 0, True, ("given by the caller",)
    )
    return LoadedModel(generator, source, plan, None)


def option_for(source: ModelSource) -> ModelOption:
    """What the device plan needs to know of a model, read from its header when present."""
    kv, trained = 0, None
    if source.backend == "llama" and source.path is not None:
        try:
            info = read_gguf(source.path)
            kv, trained = info.kv_bytes_per_token(), info.context_length
        except ModelError:
            pass  # reported when it is loaded
    elif source.backend == "mlx" and source.path is not None:
        trained = _mlx_context(source)
    return ModelOption(
        source.name, source.backend, source.size_bytes, kv, trained, source.origin == "catalog"
    )


def _mlx_context(source: ModelSource) -> int | None:
    assert source.path is not None
    try:
        config = json.loads((source.path / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    value = config.get("max_position_embeddings")
    return int(value) if isinstance(value, int) else None


def plan_model(
    settings: Settings, info: DeviceInfo, spec: str | None = None
) -> tuple[ModelSource | None, GeneratorPlan]:
    """The model to use and how to run it; the source is None when nothing usable is installed."""
    wanted = spec or settings.model
    try:
        if wanted == AUTO:
            sources = [s for s in list_generators(settings.models_dir) if s.installed]
            plan = choose_generator(info, [option_for(s) for s in sources], settings.context_tokens)
            chosen = next((s for s in sources if s.name == plan.model), None)
            return chosen, plan
        source = resolve_generator(wanted, settings.models_dir)
    except (UnknownModelError, CorruptModelError) as exc:
        raise UserError(str(exc)) from None
    if source.backend == "fake":
        return source, GeneratorPlan("fake", "fake", 1, settings.context_tokens, 0, True, ())
    return source, plan_for(info, option_for(source), settings.context_tokens)


def default_model(settings: Settings, info: DeviceInfo) -> GeneratorPlan:
    """The catalogued language model this machine should have: the largest that fits its
    free memory with headroom, installed or not. scripts/setup installs it, `auto` uses it
    once installed, and `papertape models` and `doctor` name it."""
    options = [
        replace(option_for(source), file_bytes=source.size_bytes)
        for source in list_generators(settings.models_dir)
        if source.origin == "catalog"
    ]
    runtimes = {**info.runtimes, "llama_cpp": True}  # as it will be once set up
    return choose_generator(replace(info, runtimes=runtimes), options, settings.context_tokens)


def open_model(settings: Settings, info: DeviceInfo, spec: str | None = None) -> LoadedModel:
    source, plan = plan_model(settings, info, spec)
    if source is None:
        raise Failure(
            f"no language model to answer with ({'; '.join(plan.reasons)}): run scripts/setup, "
            "or papertape models install smollm2-135m."
        )
    if not source.installed:
        raise Failure(
            f"the model {source.name} is not installed: run papertape models install {source.name}."
        )
    if not plan.fits:
        free = max(0, info.ram_available_bytes - headroom_bytes(info))
        raise UserError(
            f"the model {source.name} is too large for the free memory here: it needs about "
            f"{plan.needed_bytes / 1e6:,.0f} MB and {free / 1e6:,.0f} MB is free after headroom; "
            "choose a smaller one with --model (papertape models lists them)."
        )
    try:
        path = checked_path(source, settings.models_dir) if source.backend != "fake" else None
        generator = load_generator(
            source, path, context_tokens=plan.context_tokens, threads=plan.threads
        )
    except (ChecksumError, CorruptModelError, UnknownModelError) as exc:
        raise UserError(str(exc)) from None
    except ModelError as exc:  # not installed, or the runtime failed: not the person's input
        raise Failure(str(exc)) from None
    return LoadedModel(generator, source, plan, path)
