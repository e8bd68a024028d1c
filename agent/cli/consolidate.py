"""The consolidate command: merges, time words, facts, decay, tiers and the byte budget, run
now."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from agent.api import MemoryService
from agent.cli import output
from agent.cli.support import (
    echo_json,
    home_option,
    json_option,
    now_option,
    open_app,
    progress_printer,
)
from agent.cli.waiting import Waiting
from agent.clock import resolve_now
from agent.memory.report import ConsolidationReport, Progress
from agent.service import Papertape


@click.command()
@click.option(
    "--model",
    "model",
    metavar="NAME",
    default=None,
    help="Language model for time words, facts, episode summaries and importance ratings "
    "(default: the setting).",
)
@click.option(
    "--extractive",
    is_flag=True,
    help="Summarise without a language model (fast; no time words, facts or ratings).",
)
@click.option("--list", "list_moves", is_flag=True, help="List every memory that moved.")
@home_option
@now_option
@json_option
@click.pass_context
def consolidate(
    ctx: click.Context,
    model: str | None,
    extractive: bool,
    list_moves: bool,
    home: Path | None,
    now_text: str | None,
    as_json: bool,
) -> None:
    """Age the store to now (or --now): with a language model, each new memory is read once
    for words naming another time ("last week"), whose date is kept beside it (time_words =
    "off" turns that off), and each new episode's facts are written down (facts = "off") and
    linked to the older facts they update; fading memories move sharp -> hazy -> archive
    (time alone deletes only small talk no fact rests on), near-duplicates merge, and the
    store is kept under its byte budget, words whose facts are kept going first. Pinned
    memories never move. Progress shows on stderr (piped, a line every 30 s). The daemon
    runs this nightly; while it runs, it makes this run too (Ctrl-C stops it after the
    step in hand, as without the daemon)."""
    now = resolve_now(now_text)
    app = open_app(ctx, home)
    summarizer = "extractive" if extractive else None
    uses_model = not extractive and app.settings.summarizer != "extractive"
    bar = progress_printer()
    if isinstance(app, Papertape):
        if uses_model:
            _load_model(app, model)
        report = app.consolidate(now=now, model=model, summarizer=summarizer, progress=bar)
    else:
        report = _by_the_daemon(app, now, model, summarizer, bar, uses_model=uses_model)
    if as_json:
        echo_json(output.consolidation_json(report))
    else:
        click.echo(output.consolidation_text(report, list_moves=list_moves))


def _load_model(app: Papertape, model: str | None) -> None:
    """Load the model before the bar, saying so: on 2 cores that takes about a minute."""
    label = f"loading the language model {model}…" if model else "loading the language model…"
    if sys.stderr.isatty():
        with Waiting(label):
            app.summarizer(model)
        return
    click.echo(label, err=True)
    app.summarizer(model)


def _by_the_daemon(
    app: MemoryService,
    now: float,
    model: str | None,
    summarizer: str | None,
    bar: Progress,
    *,
    uses_model: bool,
) -> ConsolidationReport:
    """The running daemon consolidates (it is the home's one writer); its progress is shown
    here. Until its first step, it may be loading its model or finishing the job in hand."""
    label = "the daemon consolidates" + (
        " (it loads the language model first, if it has not)…" if uses_model else "…"
    )
    if not sys.stderr.isatty():
        click.echo(label, err=True)
        return app.consolidate(now=now, model=model, summarizer=summarizer, progress=bar)
    waiting = Waiting(label)

    def shown(done: int, total: int, step: str) -> None:
        waiting.stop()
        bar(done, total, step)

    with waiting:
        return app.consolidate(now=now, model=model, summarizer=summarizer, progress=shown)
