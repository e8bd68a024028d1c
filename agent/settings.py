"""Settings: defaults < config.toml in the home < PAPERTAPE_* environment < command-line flags."""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import platformdirs

from agent.clock import NOW_ENV
from agent.errors import UserError

HOME_ENV = "PAPERTAPE_HOME"
ENV_PREFIX = "PAPERTAPE_"
# PAPERTAPE_ variables that are not settings (each read where it is used). Any other
# PAPERTAPE_ variable must name a setting: a misspelt one is refused, not ignored.
OTHER_ENV = frozenset({HOME_ENV, NOW_ENV})
CONFIG_NAME = "config.toml"
STORE_NAME = "papertape.db"


@dataclass(frozen=True)
class Settings:
    home: Path
    embedder: str = "minilm"
    # Text files over this size are refused rather than split into tens of thousands of passages.
    max_file_mb: float = 8.0
    # MiniLM reads 256 word pieces, about 1,000 characters of English.
    passage_chars: int = 1000
    recall_k: int = 10
    # How many candidates each of vector and keyword search contributes before fusion.
    recall_candidates: int = 60
    # score = vector_weight * cosine' + keyword_weight * bm25' + retention_weight * R;
    # see agent/recall.py (chosen on one LoCoMo conversation, checked on six others).
    vector_weight: float = 1.0
    keyword_weight: float = 1.0
    retention_weight: float = 0.25
    # Cosines are rescaled over at least this range, so a pool of near-equal cosines (a vector
    # ranking with nothing to say) is not stretched to 0..1 (agent/recall.py).
    vector_min_spread: float = 0.2
    # BM25's vote grows by up to this fraction when its best match stands clear of the second
    # (agent/recall.py; chosen on one LoCoMo conversation, checked on six others).
    keyword_confidence: float = 1.0
    # Strength S in days for importance 0; S = base * (1 + 2 * importance).
    base_strength_days: float = 7.0
    # Most a recall can multiply strength by (when the memory was nearly forgotten).
    recall_growth: float = 2.0
    # RAM the store may keep: page caches, the cold file's mmap, recent recalls
    # (storage/budget.py). Memory the models take is on top of it.
    ram_budget_mb: int = 64
    # The language model: "auto" (the largest installed catalogued model that fits free RAM),
    # a catalog name, a path to a .gguf file or MLX folder, or a name `papertape models` lists.
    model: str = "auto"
    # Context window asked for; shrunk to what the model was trained on and what RAM allows.
    context_tokens: int = 4096
    # Room kept for the answer, and the most it may run to.
    answer_tokens: int = 256
    # A recalled memory this close in meaning (cosine, MiniLM) may ground an answer; below it,
    # only one holding half the question's words does. See agent/chat.py.
    answer_min_similarity: float = 0.3
    # -- forgetting (agent/lifecycle.py). A memory moves down a tier when its retention
    # R = exp(-t / S) falls below these. With S = 14 days (middling importance, never
    # recalled): hazy after ~10 days, archive after ~6 weeks, forgotten after ~13 months.
    hazy_below: float = 0.5
    archive_below: float = 0.05
    forget_below: float = 1e-12
    # Past this many megabytes (text, vectors, pages, media) the lowest-value memories are
    # archived, then forgotten, until the store fits. 0 means no budget.
    byte_budget_mb: float = 1024.0
    # Memories of one source closer than this in time belong to one episode (one summary).
    episode_gap_minutes: float = 180.0
    episode_max_memories: int = 60
    # "auto": the language model when one is installed, else extractive; or "model",
    # "extractive".
    summarizer: str = "auto"
    # Ask the language model to rate importance when it is loaded for consolidation.
    rate_importance: bool = True
    gist_chars: int = 80
    # Hazy pages: font size in pixels and encoding (see scripts/bench_optical.py).
    page_font_px: int = 8
    page_format: str = "png4"
    # What an archived memory keeps of its page: "drop" or "keep".
    archive_page: str = "drop"
    # What a hazy memory keeps of its original audio: "compress" (mono Opus, 16 kb/s),
    # "keep" or "drop". The archive keeps none.
    hazy_audio: str = "compress"
    # Cosine at or above which two memories are one (merged), and the lower bound at which a
    # newer memory that changes the values of an older one supersedes it.
    duplicate_similarity: float = 0.95
    supersede_similarity: float = 0.6
    # Audio (agent/audio.py): the speech model, the largest file taken, how heard speech is
    # cut into memories, and what is kept of the recording: "keep", "compress" (Opus) or "drop".
    transcriber: str = "whisper-base"
    max_audio_mb: float = 200.0
    audio_pause_s: float = 2.0
    audio_memory_s: float = 30.0
    audio_keep: str = "keep"
    # "last Saturday" is stored as "last Saturday [6 May 2023]", dated from the memory's own
    # time (agent/relative_dates.py).
    pin_relative_dates: bool = True
    # Sources never taken in, comma-separated, case-insensitive (* and ? as in file names):
    # apps and window titles of screenshots, and folders (anything under them).
    exclude_apps: str = ""
    exclude_windows: str = ""
    exclude_folders: str = ""
    # A screenshot with no text in it: "keep" (an image memory with its thumbnail) or "skip".
    screenshots_without_text: str = "keep"
    # -- the daemon (agent/daemon_jobs.py); 0 turns a job off.
    consolidate_every_hours: float = 24.0
    inbox_every_seconds: float = 5.0
    vacuum_every_hours: float = 168.0
    capture_every_minutes: float = 0.0
    # Folders watched for files to ingest, separated by the OS path separator (":" on
    # Linux and macOS); empty means the home's inbox/ folder.
    inbox_dirs: str = ""

    @property
    def store_path(self) -> Path:
        return self.home / STORE_NAME

    @property
    def config_path(self) -> Path:
        return self.home / CONFIG_NAME

    @property
    def models_dir(self) -> Path:
        """Where model files assembled from part packages are kept."""
        return self.home / "models"


_TUNABLE = {f.name: f for f in fields(Settings) if f.name != "home"}
# Settings that take one of a few words.
CHOICES = {
    "summarizer": ("auto", "model", "extractive"),
    "page_format": ("png4", "png16", "webp", "webp-q40", "jpeg"),
    "archive_page": ("drop", "keep"),
    "screenshots_without_text": ("keep", "skip"),
    "transcriber": ("whisper-base", "whisper-tiny.en"),
    "audio_keep": ("keep", "compress", "drop"),
    "hazy_audio": ("compress", "keep", "drop"),
}

# Settings with a floor above zero.
MINIMUMS = {"ram_budget_mb": 1}


def default_home() -> Path:
    return Path(platformdirs.user_data_dir("papertape", appauthor=False))


def _coerce(name: str, value: Any, origin: str) -> Any:
    kind = type(getattr(Settings, name))
    try:
        if kind is bool:
            if isinstance(value, str):
                return value.strip().lower() in ("1", "true", "yes", "on")
            return bool(value)
        coerced = kind(value)
    except (TypeError, ValueError):
        raise UserError(f"{origin}: {name} must be a {kind.__name__}, not {value!r}.") from None
    if isinstance(coerced, int | float) and not isinstance(coerced, bool) and coerced < 0:
        raise UserError(f"{origin}: {name} cannot be negative ({value!r}).")
    if name in MINIMUMS and coerced < MINIMUMS[name]:
        raise UserError(f"{origin}: {name} must be at least {MINIMUMS[name]}, not {value!r}.")
    if name in CHOICES and coerced not in CHOICES[name]:
        raise UserError(
            f"{origin}: {name} must be one of {', '.join(CHOICES[name])}, not {value!r}."
        )
    return coerced


def _unknown(name: str, origin: str) -> UserError:
    close = difflib.get_close_matches(name, _TUNABLE, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return UserError(f"{origin}: there is no setting called {name!r}.{hint}")


def _from_file(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{path} is not valid TOML ({exc}); fix or remove it.") from None
    values = {}
    for name, value in data.items():
        if name not in _TUNABLE:
            raise _unknown(name, str(path))
        values[name] = _coerce(name, value, str(path))
    return values


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    values = {}
    for key, value in sorted(env.items()):
        if not key.startswith(ENV_PREFIX) or key in OTHER_ENV:
            continue
        name = key[len(ENV_PREFIX) :].lower()
        if name not in _TUNABLE:
            raise _unknown_env(key)
        values[name] = _coerce(name, value, key)
    return values


def _unknown_env(key: str) -> UserError:
    valid = [f"{ENV_PREFIX}{name.upper()}" for name in _TUNABLE] + sorted(OTHER_ENV)
    close = difflib.get_close_matches(key, valid, n=1)
    hint = f" Did you mean {close[0]}?" if close else ""
    return UserError(
        f"the environment variable {key} names no papertape setting.{hint} "
        "Unset it, or see the settings in agent/settings.py."
    )


def load_settings(
    home: Path | str | None = None,
    overrides: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Resolve settings in order: defaults, the home's config.toml, environment, `overrides`."""
    environ = os.environ if env is None else env
    chosen = home or environ.get(HOME_ENV) or default_home()
    settings = Settings(home=Path(chosen).expanduser().resolve())
    merged = _from_file(settings.config_path)
    merged.update(_from_env(environ))
    for name, value in (overrides or {}).items():
        if name not in _TUNABLE:
            raise _unknown(name, "flag")
        if value is not None:
            merged[name] = _coerce(name, value, f"--{name.replace('_', '-')}")
    return replace(settings, **merged)
