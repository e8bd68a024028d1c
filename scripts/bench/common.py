"""Small helpers shared by the benchmarks: the machine line, percentiles, the data paths.

The benchmarks are modules of this package, run from the repository root as
`python -m scripts.bench.NAME`, so they import papertape as installed in the venv."""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any, NoReturn

ROOT = Path(__file__).resolve().parents[2]
# LoCoMo in the shared folder beside the repository: the benchmarks' default data, wherever
# they are run from.
LOCOMO = ROOT.parent / "shared/data/locomo/locomo7.json"


def machine() -> str:
    from device import probe

    info = probe()
    return (
        f"{info.cpu}, {info.cores} cores, {info.ram_total_bytes / 1e9:.0f} GB RAM, "
        f"{info.os} {info.machine}, Python {platform.python_version()}"
    )


def command_name(module_file: str) -> str:
    """How a benchmark is run, for its --help and its refusals: python -m scripts.bench.NAME."""
    return f"python -m scripts.bench.{Path(module_file).stem}"


def header(command: str) -> str:
    return f"machine: {machine()}\ndate: {date.today().isoformat()}\ncommand: {command}"


def outside_repository(path: Path, prog: str) -> Path:
    """A run record's path, refused inside the repository: records hold LoCoMo's questions
    and answers (CC BY-NC), which are not committed here."""
    if path.resolve().is_relative_to(ROOT):
        refuse(prog, f"{path} is inside the repository; write run records outside it (../runs/).")
    return path


def refuse(prog: str, sentence: str, code: int = 2) -> NoReturn:
    """Stop on bad input as the CLI does: one sentence on stderr and exit 2 (1 for a failure
    that is not the person's mistake)."""
    print(f"{prog}: {sentence}", file=sys.stderr)
    sys.exit(code)


def add_data_option(parser: argparse.ArgumentParser) -> None:
    """--data FILE: a LoCoMo-schema JSON file, by default the shared folder's locomo7.json."""
    parser.add_argument(
        "--data", type=Path, default=LOCOMO, help=f"a LoCoMo-schema JSON file (default: {LOCOMO})"
    )


def data_file(path: Path, prog: str) -> Path:
    """The --data file; one sentence and exit 2 when it is not there."""
    if not path.is_file():
        refuse(prog, f"{path} does not exist; give --data FILE.")
    return path


def add_set_option(parser: argparse.ArgumentParser) -> None:
    """--set NAME=VALUE (repeatable): try a setting (agent/settings.py) for one run."""
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a setting for this run, e.g. --set retention_weight=0",
    )


def settings_set(
    items: list[str], prog: str, owned: dict[str, str] | None = None
) -> dict[str, str]:
    """The --set items as overrides; one sentence and exit 2 for an item without "=", a
    setting that does not exist, a value it cannot take, or a setting one of the script's
    own flags sets (`owned`: setting -> flag), which would silently win over it."""
    from agent.errors import UserError
    from agent.settings import load_settings

    malformed = [item for item in items if "=" not in item]
    if malformed:
        refuse(prog, f"--set takes NAME=VALUE; got {malformed[0]!r}.")
    overrides = dict(item.split("=", 1) for item in items)
    for name, flag in (owned or {}).items():
        if name in overrides:
            refuse(prog, f"--set {name} is what {flag} is for; use {flag}.")
    with tempfile.TemporaryDirectory() as home:
        try:
            load_settings(Path(home), overrides=overrides, env={})
        except UserError as exc:
            refuse(prog, f"--set: {exc}")
    return overrides


DAY = 86_400.0


def read_cases(path: Path, prog: str, what: str, fields: Sequence[str]) -> list[dict[str, Any]]:
    """The "cases" of a JSON set of `what`, each holding `fields`; one sentence and exit 2
    for a file that cannot be read or is not such a set."""
    try:
        cases = json.loads(path.read_text(encoding="utf-8"))["cases"]
        missing = [name for case in cases for name in fields if name not in case]
    except OSError as exc:
        refuse(prog, f"cannot read {path}: {exc.strerror}.")
    except (ValueError, KeyError, TypeError) as exc:
        refuse(prog, f"{path} is not a set of {what} ({exc}).")
    if missing:
        refuse(prog, f"a case of {path} has no {missing[0]!r}.")
    return list(cases)


def lay_notes(app: Any, notes: Sequence[dict[str, Any]], now: float) -> None:
    """A case's notes, each stored on its day (`days_ago` before `now`, with its `speaker`
    if it has one), a minute apart where two fall on one day, in the order written."""
    for n, note in enumerate(notes):
        when = now - DAY * note["days_ago"] - 3600 + 60 * n
        app.note(note["text"], now=when, occurred_at=when, speaker=note.get("speaker"))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def edit_distance(a: Sequence[object], b: Sequence[object]) -> int:
    """Levenshtein distance between two strings (characters) or two lists (words)."""
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        current = [i]
        for j, y in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def fill_with_copies(
    store, texts: list[str], vectors, count: int, t0: float, seed: int = 1
) -> None:
    """Add `count` memories cycling through `texts`, each vector with a little noise.

    LoCoMo has only ~4,100 distinct turns; large stores reuse their real embeddings so the
    search work per query is that of distinct texts. Copies get a numbered text and hash.
    """
    import hashlib

    import numpy as np

    from storage import NewMemory

    rng = np.random.default_rng(seed)
    with store.transaction():
        for i in range(count):
            base = i % len(texts)
            vector = vectors[base] + rng.normal(0, 0.02, vectors.shape[1])
            vector = (vector / np.linalg.norm(vector)).astype(np.float32)
            store.add(
                NewMemory(
                    kind="text",
                    source="bench",
                    occurred_at=t0 + i,
                    ingested_at=t0 + i,
                    content_hash=hashlib.sha256(f"{i}".encode()).hexdigest(),
                    text=texts[base] if i < len(texts) else f"{texts[base]} (#{i})",
                    strength=14.0,
                ),
                vector,
            )
