#!/usr/bin/env python3
"""The evidence `ask` shows with the settings as shipped against with others, in one run.

The questions of scripts.bench.guess (the answers bench's sample of categories 1-4 and a
held-out draw of as many more), on the stores `scripts.bench.answers --stores DIR` kept.
For each question `ask`'s evidence and prompt are built twice, with the settings as shipped
and with `--set NAME=VALUE` (e.g. `--set reply_context=false`); the share of the question's
evidence turns in the prompt, and whether any of them is, are compared. The model only
counts the prompt's tokens; nothing is generated and nothing is written to the stores.

    python -m scripts.bench.shown --model qwen2.5-coder-1.5b --stores DIR --set NAME=VALUE
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

from agent.errors import UserError
from agent.service import Papertape
from agent.settings import Settings, load_settings
from scripts.bench import common
from scripts.bench.answers import DAY, IDS_FILE
from scripts.bench.guess import SPLITS, add_draw_options, draws, evidence_shown
from scripts.bench.locomo_data import CATEGORIES, load

PROG = common.command_name(__file__)


Shown = tuple[str, str, int, float, float, bool]


def compare(
    app: Papertape,
    generator: Any,
    conv: Any,
    entries: list[tuple[str, str, Any, Any]],
    ids: dict[str, int],
    changed: Settings,
) -> list[Shown]:
    """Each question's evidence shown with the app's settings and with `changed`."""
    now = conv.turns[-1].occurred_at + DAY
    out = []
    for split, qid, _, q in entries:
        wanted = {ids[d] for d in q.evidence if d in ids}
        if not wanted:
            continue
        before = evidence_shown(app, generator, q.question, "", now)
        after = evidence_shown(app, generator, q.question, "", now, changed)
        shares = len(wanted & before) / len(wanted), len(wanted & after) / len(wanted)
        out.append((split, qid, q.category, *shares, before != after))
        print(f"  {qid}: {shares[0]:.2f} -> {shares[1]:.2f}", file=sys.stderr)
    return out


def measure(
    stores: Path, model: str, overrides: dict[str, str], chosen: list[tuple[str, str, Any, Any]]
) -> list[Shown]:
    """`compare` over the kept store of each conversation `chosen` draws from."""
    by_conv: dict[str, list[tuple[str, str, Any, Any]]] = defaultdict(list)
    for entry in chosen:
        by_conv[entry[2].sample_id].append(entry)
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        shipped = load_settings(Path(tmp), overrides={"model": model}, env={})
        changed = load_settings(Path(tmp), overrides={"model": model, **overrides}, env={})
        for conv_id, entries in sorted(by_conv.items()):
            home = stores / conv_id
            if not (home / IDS_FILE).exists():
                common.refuse(PROG, f"{home} holds no store kept by the answers bench's --stores.")
            ids = json.loads((home / IDS_FILE).read_text(encoding="utf-8"))
            with Papertape(replace(shipped, home=home)) as app:
                out += compare(
                    app, app.generator(), entries[0][2], entries, ids, replace(changed, home=home)
                )
    return out


def table(results: list[Shown]) -> str:
    lines = [
        "| questions | n | evidence shown, as shipped | with the settings | any shown "
        "| better / worse | prompts that differ |",
        "|---|---|---|---|---|---|---|",
    ]
    for split in SPLITS:
        rows = [r for r in results if r[0] == split]
        parts = [("all", rows)] + [
            (CATEGORIES[c], [r for r in rows if r[2] == c]) for c in sorted({r[2] for r in rows})
        ]
        for name, part in parts:
            if not part:
                continue
            before = sum(r[3] for r in part) / len(part)
            after = sum(r[4] for r in part) / len(part)
            lines.append(
                f"| {split}, {name} | {len(part)} | {before:.3f} | {after:.3f} "
                f"| {sum(r[3] > 0 for r in part)} -> {sum(r[4] > 0 for r in part)} "
                f"| {sum(r[4] > r[3] for r in part)} / {sum(r[4] < r[3] for r in part)} "
                f"| {sum(r[5] for r in part)} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    common.add_data_option(parser)
    common.add_set_option(parser)
    add_draw_options(parser)
    parser.add_argument("--stores", type=Path, required=True, help="the answers bench's --stores")
    parser.add_argument(
        "--differ",
        type=Path,
        default=None,
        metavar="FILE",
        help="write here the sample's question ids whose prompt shows other memories",
    )
    args = parser.parse_args()
    common.data_file(args.data, PROG)
    overrides = common.settings_set(args.set, PROG)
    if not overrides:
        common.refuse(PROG, "give the settings to compare with: --set NAME=VALUE.")
    chosen = draws(load(args.data), args.per_category, args.seed, args.held_seed)
    try:
        results = measure(args.stores, args.model, overrides, chosen)
    except UserError as exc:
        common.refuse(PROG, str(exc), exc.exit_code)
    if args.differ:
        differ = [r[1] for r in results if r[0] == "sample" and r[5]]
        args.differ.write_text("".join(f"{qid}\n" for qid in differ), encoding="utf-8")
    print(common.header("python -m scripts.bench.shown " + shlex.join(sys.argv[1:])))
    print(table(results))


if __name__ == "__main__":
    main()
