#!/usr/bin/env python3
"""Redaction: how many secrets are caught and how many look-alikes are left alone, today
against the code at a baseline commit, on the same corpus in one run.

The corpus (tests/data/redaction_corpus.json, invented values) holds secrets in many formats,
each with the strings that must not survive, and ordinary strings that look like secrets
(URLs, paths, dotted names, order numbers, hashes...). A secret counts as caught when none of
its strings is left in the redacted text; a look-alike counts as a false positive when the
redacted text differs from it at all. The corpus was written together with the rules, so it
measures what they were made to do; as text nobody wrote for them, the turns of the LoCoMo
conversations (--prose, a file in the shared folder) are redacted too, and any turn changed
is counted (they hold no secrets). The baseline module is read with `git show` and loaded on
its own, beside the current one.

    python -m scripts.bench.redact [--baseline faa6565] [--corpus FILE] [--prose FILE] [--misses]
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from agent.ingest.redact import redact
from scripts.bench import common

PROG = common.command_name(__file__)

CORPUS = common.ROOT / "tests/data/redaction_corpus.json"
Redactor = Callable[[str], str]


@dataclass(frozen=True)
class Score:
    caught: int
    secrets: int
    flagged: int
    lookalikes: int
    missed: tuple[str, ...]
    wrongly: tuple[str, ...]

    @property
    def recall(self) -> float:
        return self.caught / self.secrets

    @property
    def fp_rate(self) -> float:
        return self.flagged / self.lookalikes


def load_corpus(path: Path) -> dict[str, list[dict[str, object]]]:
    corpus: dict[str, list[dict[str, object]]] = json.loads(path.read_text())
    return corpus


def score(corpus: dict[str, list[dict[str, object]]], redactor: Redactor) -> Score:
    missed, wrongly = [], []
    for entry in corpus["secrets"]:
        cleaned = redactor(str(entry["text"]))
        if any(str(secret) in cleaned for secret in entry["secrets"]):  # type: ignore[attr-defined]
            missed.append(str(entry["format"]))
    for entry in corpus["lookalikes"]:
        if redactor(str(entry["text"])) != entry["text"]:
            wrongly.append(str(entry["format"]))
    secrets, lookalikes = len(corpus["secrets"]), len(corpus["lookalikes"])
    return Score(
        secrets - len(missed), secrets, len(wrongly), lookalikes, tuple(missed), tuple(wrongly)
    )


def baseline_redactor(commit: str) -> Redactor:
    """agent/redact.py as it was at `commit`, loaded as a module of its own."""
    source = subprocess.run(
        ["git", "-C", str(common.ROOT), "show", f"{commit}:agent/redact.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    module = types.ModuleType(f"redact_at_{commit}")
    sys.modules[module.__name__] = module  # dataclasses look their module up by name
    exec(compile(source, f"{commit}:agent/redact.py", "exec"), module.__dict__)
    return lambda text: str(module.redact(text).text)


def main() -> None:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", default="faa6565", help="commit to compare against")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--prose", type=Path, default=common.LOCOMO, help="LoCoMo JSON")
    parser.add_argument("--misses", action="store_true", help="name what each version gets wrong")
    args = parser.parse_args()
    if not args.corpus.is_file():
        common.refuse(PROG, f"there is no corpus at {args.corpus}.")
    corpus = load_corpus(args.corpus)
    try:
        old = baseline_redactor(args.baseline)
    except subprocess.CalledProcessError:
        common.refuse(PROG, f"git cannot show agent/redact.py at {args.baseline}.")
    print(common.header("python -m scripts.bench.redact " + shlex.join(sys.argv[1:])))
    before = score(corpus, old)

    def now_redactor(text: str) -> str:
        return redact(text).text

    now = score(corpus, now_redactor)
    print(f"corpus: {now.secrets} secrets, {now.lookalikes} look-alikes ({args.corpus.name})")
    print(f"{'':18}{'recall':>18}{'false positives':>22}")
    for name, result in ((f"baseline {args.baseline}", before), ("now", now)):
        print(
            f"{name:18}{result.caught:>7}/{result.secrets} = {result.recall:5.3f}"
            f"{result.flagged:>10}/{result.lookalikes} = {result.fp_rate:5.3f}"
        )
    print(
        f"now - baseline: recall {now.recall - before.recall:+.3f} "
        f"(x{now.recall / before.recall:.2f}), false-positive rate "
        f"{now.fp_rate - before.fp_rate:+.3f}"
    )
    if args.prose.is_file():
        from scripts.bench.locomo_data import load

        turns = [turn.text for conv in load(args.prose) for turn in conv.turns]
        for name, redactor in ((f"baseline {args.baseline}", old), ("now", now_redactor)):
            changed = [t for t in turns if redactor(t) != t]
            print(f"{name}: {len(changed)} of {len(turns)} LoCoMo turns redacted")
            if args.misses:
                print("".join(f"  {t[:100]!r}\n" for t in changed[:10]), end="")
    if args.misses:
        for name, result in ((args.baseline, before), ("now", now)):
            print(f"\n{name} missed: {', '.join(result.missed) or 'none'}")
            print(f"{name} redacted look-alikes: {', '.join(result.wrongly) or 'none'}")


if __name__ == "__main__":
    main()
