"""Choose how to run the language model on this machine: backend, model, threads, context.

Pure arithmetic over the probe's numbers and the candidates the caller describes, so the
choice can be tested for any machine and `papertape doctor` can say why it was made.
"""

from __future__ import annotations

from dataclasses import dataclass

from device.probe import DeviceInfo

MB = 1_000_000
# Compute buffers and the runtime itself, on top of the weights and the key/value cache.
RUNTIME_OVERHEAD_BYTES = 200 * MB
# Weights are memory-mapped; dequantisation scratch and fragmentation add about a tenth.
WEIGHT_FACTOR = 1.1
MIN_CONTEXT = 1024


@dataclass(frozen=True)
class ModelOption:
    name: str
    backend: str  # "llama" or "mlx"
    file_bytes: int
    kv_bytes_per_token: int  # 0 when unknown: a conservative guess is used
    trained_context: int | None
    catalogued: bool


@dataclass(frozen=True)
class GeneratorPlan:
    model: str | None
    backend: str | None
    threads: int
    context_tokens: int
    needed_bytes: int
    fits: bool
    reasons: tuple[str, ...]


def headroom_bytes(info: DeviceInfo) -> int:
    """Free memory left for the rest of the machine: a tenth of RAM, at least 512 MB."""
    return max(512 * MB, info.ram_total_bytes // 10)


def threads_for(info: DeviceInfo) -> int:
    # Generation is bound by memory bandwidth: past the physical cores, threads only contend.
    # Machines with 8 or more logical cores are assumed to run two threads per core.
    return max(1, info.cores // 2 if info.cores >= 8 else info.cores)


def needed_bytes(option: ModelOption, context: int) -> int:
    kv = option.kv_bytes_per_token or 64 * 1024  # ~ a 1B model's f16 cache per token
    return int(option.file_bytes * WEIGHT_FACTOR) + kv * context + RUNTIME_OVERHEAD_BYTES


def _context_that_fits(option: ModelOption, wanted: int, budget: int) -> int:
    context = min(wanted, option.trained_context or wanted)
    while context > MIN_CONTEXT and needed_bytes(option, context) > budget:
        context //= 2
    return context


def plan_for(info: DeviceInfo, option: ModelOption, wanted_context: int) -> GeneratorPlan:
    """The plan for one given model: the context shrinks (not below 1,024) to fit free RAM."""
    budget = info.ram_available_bytes - headroom_bytes(info)
    context = _context_that_fits(option, wanted_context, budget)
    need = needed_bytes(option, context)
    fits = need <= budget
    reasons = [
        f"{option.name} needs about {need / MB:,.0f} MB with a {context}-token context; "
        f"{max(budget, 0) / MB:,.0f} MB is free after {headroom_bytes(info) / MB:,.0f} MB "
        "of headroom",
    ]
    if context < min(wanted_context, option.trained_context or wanted_context):
        reasons.append(f"context cut from {wanted_context} to {context} tokens to fit")
    reasons.append(f"{threads_for(info)} threads for {info.cores} logical cores")
    return GeneratorPlan(
        option.name, option.backend, threads_for(info), context, need, fits, tuple(reasons)
    )


def choose_generator(
    info: DeviceInfo, options: list[ModelOption], wanted_context: int
) -> GeneratorPlan:
    """The largest usable model that fits free RAM with headroom.

    On Apple silicon with MLX installed, MLX models are preferred; elsewhere, or with none,
    catalogued GGUF models run on llama.cpp. With nothing that fits, the smallest candidate is
    returned with fits=False and the reason, so the caller can say what is missing.
    """
    use_mlx = info.apple_silicon and info.runtimes.get("mlx", False)
    usable = [
        o
        for o in options
        if (o.backend == "mlx" and use_mlx)
        or (o.backend == "llama" and o.catalogued and info.runtimes.get("llama_cpp", False))
    ]
    if use_mlx and any(o.backend == "mlx" for o in usable):
        usable = [o for o in usable if o.backend == "mlx"]
    if not usable:
        missing = "llama-cpp-python" if not info.runtimes.get("llama_cpp") else "a model"
        return GeneratorPlan(
            None,
            None,
            threads_for(info),
            0,
            0,
            False,
            (f"no usable language model: {missing} is not installed",),
        )
    plans = [plan_for(info, o, wanted_context) for o in sorted(usable, key=lambda o: o.file_bytes)]
    fitting = [p for p in plans if p.fits]
    chosen = fitting[-1] if fitting else plans[0]
    why = (
        f"the largest of {len(usable)} installed model(s) that fits"
        if fitting
        else "no installed model fits in free memory"
    )
    backend = "MLX on Apple silicon" if chosen.backend == "mlx" else "llama.cpp"
    return GeneratorPlan(
        chosen.model,
        chosen.backend,
        chosen.threads,
        chosen.context_tokens,
        chosen.needed_bytes,
        chosen.fits,
        (f"{backend}: {why}", *chosen.reasons),
    )
