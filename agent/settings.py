"""Settings: defaults < config.toml in the home < PAPERTAPE_* environment < command-line flags.

Every number has a valid range (RANGES); a value outside it, NaN or infinity is refused with
a sentence naming the setting and its range, wherever it came from.
"""

from __future__ import annotations

import difflib
import logging
import math
import os
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import platformdirs

from agent.clock import NOW_ENV
from agent.errors import UserError
from models.embedder import embedder_names, similarity_defaults

log = logging.getLogger(__name__)

HOME_ENV = "PAPERTAPE_HOME"
ENV_PREFIX = "PAPERTAPE_"
# An encrypted store's passphrase, and a new one for `papertape passphrase` (agent/keys.py).
PASSPHRASE_ENV = "PAPERTAPE_PASSPHRASE"
NEW_PASSPHRASE_ENV = "PAPERTAPE_NEW_PASSPHRASE"
# PAPERTAPE_ variables that are not settings (each read where it is used). Any other
# PAPERTAPE_ variable must name a setting: a misspelt one is refused, not ignored.
OTHER_ENV = frozenset({HOME_ENV, NOW_ENV, PASSPHRASE_ENV, NEW_PASSPHRASE_ENV})
CONFIG_NAME = "config.toml"
STORE_NAME = "papertape.db"


@dataclass(frozen=True)
class Settings:
    home: Path
    embedder: str = "minilm"
    # A new store is created encrypted (storage/cipher.py): its passphrase comes from
    # PAPERTAPE_PASSPHRASE, the OS keyring or the terminal. An existing store is converted
    # with `papertape encrypt` / `papertape decrypt`, not by this setting.
    encrypt: bool = False
    # Text files over this size are refused rather than split into tens of thousands of passages.
    max_file_mb: float = 8.0
    # The most one request to the daemon may carry, and one note (an argument or stdin) hold;
    # bigger is refused before it is read whole. As large as a text file may be.
    max_request_mb: float = 8.0
    # MiniLM reads 256 word pieces, about 1,000 characters of English.
    passage_chars: int = 1000
    recall_k: int = 10
    # How many candidates each of vector and keyword search contributes before fusion.
    recall_candidates: int = 60
    # score = vector_weight * cosine' + keyword_weight * bm25' + retention_weight * R;
    # see agent/answer/recall.py (chosen on one LoCoMo conversation, checked on six others).
    vector_weight: float = 1.0
    keyword_weight: float = 1.0
    retention_weight: float = 0.25
    # Cosines are rescaled over at least this range, so a pool of near-equal cosines (a vector
    # ranking with nothing to say) is not stretched to 0..1 (agent/answer/recall.py). For
    # MiniLM; e5-small, whose cosines sit in a narrow band, sets its own (models/e5.py).
    vector_min_spread: float = 0.2
    # BM25's vote grows by up to this fraction when its best match stands clear of the second
    # (agent/answer/recall.py; chosen on one LoCoMo conversation, checked on six others).
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
    # How many memories `ask` recalls, and the most tokens its prompt may take, which bounds
    # the wait for the first word: on 2 cores the 1.5B model reads about 175 prompt tokens a
    # second when idle, far fewer under load (scripts/bench/prompt_size.py). 24 memories were
    # judged right more often than 16, at about 8 s to the first word instead of 5
    # (docs/BENCHMARKS.md).
    ask_k: int = 24
    prompt_tokens: int = 1536
    # Each of the best `context_hits` memories recalled for `ask` brings the `context_after`
    # memories that followed it from the same source within the episode gap: in a
    # conversation, the reply to what matched, which often holds the answer
    # (docs/BENCHMARKS.md). They come before the rest of what recall gave, so prompt_tokens
    # leaves out the least relevant of those instead; 0 turns it off.
    context_hits: int = 8
    context_after: int = 2
    # Before recall, the model writes a made-up line that would answer the question, and
    # recall searches for both (agent/answer/guess.py). On LoCoMo it brought more evidence
    # into the prompt, but answers were judged right no more often, and the first word came
    # about 3 s later (docs/BENCHMARKS.md); so it is off unless turned on.
    search_guess: bool = False
    # A question the model reads as asking when is answered from the few memories it picks
    # from those recalled (agent/answer/select.py): judged blind, when-questions were right
    # more often (picked for every question, the others were right less often), the first
    # word some 6 s later (docs/BENCHMARKS.md).
    pick_lines_for_when: bool = True
    # An answer that shares few words with what it cites is still supported when question and
    # answer together are this close in meaning (cosine, MiniLM; e5-small sets its own,
    # models/e5.py) to a cited memory (agent/answer/check.py).
    support_min_similarity: float = 0.4
    # What an answer cites must be about its question: the question alone this close in
    # meaning (cosine, MiniLM; e5-small sets its own) to a cited memory, or the answer is
    # marked. On LoCoMo no answer judged right cited lines below 0.31; -1 turns it off
    # (agent/answer/check.py, `is_about`; docs/BENCHMARKS.md).
    question_min_similarity: float = 0.25
    # Where the model reads whether what an answer cites states what it says
    # (agent/answer/stated.py): "unshared" where the answer's words are not found in it,
    # "every" for every answer, "off" never (closeness decides). The 1.5B reads nearly every
    # answer as stated, made-up ones too, so it is off; "unshared" stops marking right
    # answers given in another language than the notes (docs/BENCHMARKS.md).
    support_reading: str = "off"
    # Recall reads a said line's vector with that of the line it answers, so a reply is
    # found through what it answers (agent/answer/replies.py; docs/BENCHMARKS.md).
    reply_context: bool = True
    # Past exchanges with papertape as evidence for recall and ask (ranked below what you
    # stored). Off: a model's answer is not a source.
    chat_as_evidence: bool = False
    # -- forgetting (agent/memory/consolidation.py). A memory moves down a tier when its retention
    # R = exp(-t / (S * pace)) falls below these (pace by kind: agent/memory/retention.py). A note
    # of middling importance, never recalled (S = 14 days, pace 4): hazy after ~5 weeks,
    # archived after ~5.5 months. Time alone deletes nothing.
    hazy_below: float = 0.5
    archive_below: float = 0.05
    # Days after which a memory (pinned ones aside) is forgotten whatever it holds; 0: never.
    retention_days: float = 0.0
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
    # "auto": when consolidation has a language model that can be held to a schema, it
    # writes each new episode's facts (agent/memory/facts.py), and the daemon those of new
    # memories every facts_every_minutes; "off": no facts.
    facts: str = "auto"
    # "auto": with such a model, consolidation also reads each new memory for words naming
    # another time ("last week") and keeps the period they name beside it, for prompts to
    # show (agent/memory/times.py), and the daemon reads those of new memories every
    # time_words_every_minutes; "off": not read.
    time_words: str = "auto"
    gist_chars: int = 80
    # Hazy pages: font size in pixels and encoding (see scripts/bench/optical.py).
    page_font_px: int = 8
    page_format: str = "png4"
    # When a memory's words give way to its gist (only ever once a fact rests on it): "room",
    # when the byte budget needs the room, after every vector has been cut to bits (text is
    # the cheapest thing held and the knowledge is in it); "fade", as soon as it goes hazy.
    words_leave: str = "room"
    # Whether an archived episode summary keeps its page: "drop" (a page costs about 6x the
    # zlib-compressed text it shows) or "keep".
    archive_page: str = "drop"
    # What a hazy memory keeps of its original audio: "compress" (mono Opus, 16 kb/s),
    # "keep" or "drop". The archive keeps none.
    hazy_audio: str = "compress"
    # Cosine at or above which two memories stating the same values are one (merged).
    duplicate_similarity: float = 0.95
    # Cosine a stored fact needs to a new one for the model to judge whether the new one
    # updates it (agent/memory/updates.py). Low on purpose: MiniLM puts "moved to Thursday"
    # well below a restatement, and the model decides.
    update_min_similarity: float = 0.5
    # Audio (agent/ingest/audio.py): the speech model, the largest file taken, how heard speech is
    # cut into memories, and what is kept of the recording: "keep", "compress" (Opus) or "drop".
    transcriber: str = "whisper-base"
    max_audio_mb: float = 200.0
    audio_pause_s: float = 2.0
    audio_memory_s: float = 30.0
    audio_keep: str = "keep"
    # Sources never taken in, comma-separated, case-insensitive (* and ? as in file names):
    # apps and window titles of screenshots, and folders (anything under them).
    exclude_apps: str = ""
    exclude_windows: str = ""
    exclude_folders: str = ""
    # A screenshot with no text in it: "keep" (an image memory with its thumbnail) or "skip".
    screenshots_without_text: str = "keep"
    # -- the daemon (agent/daemon/jobs.py); 0 turns a job off.
    consolidate_every_hours: float = 24.0
    time_words_every_minutes: float = 10.0
    facts_every_minutes: float = 30.0
    inbox_every_seconds: float = 5.0
    vacuum_every_hours: float = 168.0
    capture_every_minutes: float = 0.0
    # Folders watched for files to ingest, separated by the OS path separator (":" on
    # Linux and macOS); empty means the home's inbox/ folder.
    inbox_dirs: str = ""
    # Seconds the daemon waits on a silent client (a request not sent, a reply not read)
    # before it drops the connection.
    client_timeout_s: float = 30.0

    @property
    def store_path(self) -> Path:
        return self.home / STORE_NAME

    @property
    def config_path(self) -> Path:
        return self.home / CONFIG_NAME

    @property
    def models_dir(self) -> Path:
        """Where model files joined from part packages are kept: beside those packages, in
        the Python environment papertape runs in, so every home shares one copy (1.1 GB for
        the 1.5B); in the home when the environment cannot be written, or when the home has
        its own copies already (made by an older papertape)."""
        own = self.home / "models"
        if own.is_dir() and any(own.iterdir()):
            return own
        shared = Path(sys.prefix) / "share" / "papertape" / "models"
        writable = next((p for p in (shared, *shared.parents) if p.exists()), None)
        return shared if writable is not None and os.access(writable, os.W_OK) else own


_TUNABLE = {f.name: f for f in fields(Settings) if f.name != "home"}
# Settings papertape once had: a config file or environment that still names one is read,
# with a warning saying why it no longer does anything, rather than refused.
RETIRED = {
    "pin_relative_dates": "stored text is no longer rewritten; facts and the prompt carry dates",
    "forget_below": "time alone no longer forgets; set retention_days to forget by age",
    "supersede_similarity": "updates are found between facts, by the model",
}
# Settings that take one of a few words.
CHOICES = {
    "summarizer": ("auto", "model", "extractive"),
    "facts": ("auto", "off"),
    "support_reading": ("off", "unshared", "every"),
    "time_words": ("auto", "off"),
    "page_format": ("png4", "png16", "webp", "webp-q40", "jpeg"),
    "archive_page": ("drop", "keep"),
    "words_leave": ("room", "fade"),
    "screenshots_without_text": ("keep", "skip"),
    "transcriber": ("whisper-base", "whisper-tiny.en"),
    "audio_keep": ("keep", "compress", "drop"),
    "hazy_audio": ("compress", "keep", "drop"),
}


@dataclass(frozen=True)
class Range:
    """The values a numeric setting may take."""

    low: float
    high: float
    above: bool = False  # low itself is not allowed
    off: bool = False  # 0 is allowed too, and turns the thing off

    def holds(self, value: float) -> bool:
        if self.off and value == 0:
            return True
        return (value > self.low if self.above else value >= self.low) and value <= self.high

    def __str__(self) -> str:
        low = f"above {_show(self.low)}" if self.above else f"at least {_show(self.low)}"
        text = f"{low} and at most {_show(self.high)}"
        return f"0 (off) or {text}" if self.off else text


def _show(number: float) -> str:
    return f"{int(number):,}" if float(number).is_integer() else f"{number:g}"


# Every numeric setting's valid range: wide enough for any sensible use, narrow enough that a
# typo (0 passages, a budget of 1 KB, a threshold of 2) is refused instead of obeyed.
RANGES: dict[str, Range] = {
    "max_file_mb": Range(0, 4096, above=True),
    "max_request_mb": Range(0, 1024, above=True),
    "passage_chars": Range(100, 100_000),
    "recall_k": Range(1, 1000),
    "recall_candidates": Range(1, 10_000),
    "vector_weight": Range(0, 100),
    "keyword_weight": Range(0, 100),
    "retention_weight": Range(0, 100),
    "vector_min_spread": Range(0, 2),
    "keyword_confidence": Range(0, 100),
    "base_strength_days": Range(0, 36_500, above=True),
    "recall_growth": Range(1, 100),
    "ram_budget_mb": Range(1, 1_048_576),
    "context_tokens": Range(256, 1_048_576),
    "answer_tokens": Range(1, 65_536),
    "ask_k": Range(1, 1000),
    "context_hits": Range(0, 1000),
    "context_after": Range(0, 100),
    "prompt_tokens": Range(128, 1_048_576),
    "support_min_similarity": Range(-1, 1),
    "question_min_similarity": Range(-1, 1),
    "hazy_below": Range(0, 1),
    "archive_below": Range(0, 1),
    "retention_days": Range(1, 36_500, off=True),
    "byte_budget_mb": Range(1, 10_000_000, off=True),
    "episode_gap_minutes": Range(0, 525_600, above=True),
    "episode_max_memories": Range(1, 100_000),
    "gist_chars": Range(10, 10_000),
    "page_font_px": Range(4, 64),
    "duplicate_similarity": Range(0, 1, above=True),
    "update_min_similarity": Range(-1, 1),
    "max_audio_mb": Range(0, 100_000, above=True),
    "audio_pause_s": Range(0, 3600, above=True),
    "audio_memory_s": Range(0, 86_400, above=True),
    "consolidate_every_hours": Range(0.01, 87_600, off=True),
    "time_words_every_minutes": Range(0.1, 525_600, off=True),
    "facts_every_minutes": Range(0.1, 525_600, off=True),
    "inbox_every_seconds": Range(0.1, 86_400, off=True),
    "vacuum_every_hours": Range(0.01, 87_600, off=True),
    "capture_every_minutes": Range(0.1, 525_600, off=True),
    "client_timeout_s": Range(0.1, 86_400),
}
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def default_home() -> Path:
    return Path(platformdirs.user_data_dir("papertape", appauthor=False))


def _coerce(name: str, value: Any, origin: str) -> Any:
    kind = type(getattr(Settings, name))
    if kind is bool:
        if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
            return value.strip().lower() in _TRUE
        if isinstance(value, bool | int):
            return bool(value)
        raise UserError(f"{origin}: {name} must be true or false, not {value!r}.")
    if kind in (int, float):
        return _number(name, value, origin, whole=kind is int)
    coerced = kind(value)
    if name in CHOICES and coerced not in CHOICES[name]:
        raise UserError(
            f"{origin}: {name} must be one of {', '.join(CHOICES[name])}, not {value!r}."
        )
    return coerced


def _number(name: str, value: Any, origin: str, *, whole: bool) -> int | float:
    """A numeric setting's value, refused unless it is finite and within RANGES[name]."""
    what = "a whole number" if whole else "a number"
    try:
        if isinstance(value, bool):
            raise TypeError
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise UserError(f"{origin}: {name} must be {what}, not {value!r}.") from None
    valid = RANGES[name]
    if not math.isfinite(number) or not valid.holds(number):
        raise UserError(f"{origin}: {name} must be {valid}, not {value!r}.")
    if whole:
        if not number.is_integer():
            raise UserError(f"{origin}: {name} must be {what}, not {value!r}.")
        return int(number)
    return number


def _warn_retired(name: str, origin: str) -> None:
    log.warning("%s: the setting %s is ignored: %s.", origin, name, RETIRED[name])


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
        if name in RETIRED:
            _warn_retired(name, str(path))
            continue
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
        if name in RETIRED:
            _warn_retired(name, key)
            continue
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
    if home is None and HOME_ENV in environ and not environ[HOME_ENV].strip():
        raise UserError(f"{HOME_ENV} is set but empty: give it a folder, or unset it.")
    chosen = home or environ.get(HOME_ENV) or default_home()
    settings = Settings(home=Path(chosen).expanduser().resolve())
    merged = _from_file(settings.config_path)
    merged.update(_from_env(environ))
    for name, value in (overrides or {}).items():
        if name not in _TUNABLE:
            raise _unknown(name, "flag")
        if value is not None:
            merged[name] = _coerce(name, value, f"--{name.replace('_', '-')}")
    embedder = merged.get("embedder", settings.embedder)
    if isinstance(embedder, str) and embedder in embedder_names():
        # Cosine thresholds are the embedder's own where its scale differs from MiniLM's.
        for name, value in similarity_defaults(embedder).items():
            merged.setdefault(name, value)
    chosen_settings = replace(settings, **merged)
    if chosen_settings.answer_tokens >= chosen_settings.context_tokens:
        raise UserError(
            f"answer_tokens ({chosen_settings.answer_tokens}) must be below context_tokens "
            f"({chosen_settings.context_tokens}): the question and memories need room too."
        )
    return chosen_settings
