"""export and import: every memory as JSONL, and back."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import click

from agent.cli.support import echo_json, home_option, json_option, open_local
from agent.cli.terminal import printable
from agent.errors import UserError
from agent.memory.transfer import is_memory_line


@click.command("export")
@click.option(
    "-o",
    "--output",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to FILE instead of stdout.",
)
@home_option
@click.pass_context
def export_command(ctx: click.Context, out: Path | None, home: Path | None) -> None:
    """Write every memory as JSONL: all fields, links and vectors (a lossless backup).

    The export is plaintext, even from an encrypted store: keep it as safe as the store."""
    folder = None if out is None else out.resolve().parent
    if folder is not None and not folder.is_dir():
        raise UserError(
            f"cannot write {printable(out)}: the folder {printable(folder)} does not exist."
        )
    app = open_local(ctx, home, writes=False)
    lines = app.export()
    if app.unlocked.key is not None:
        click.echo(
            "papertape: the store is encrypted, but this export is plaintext: anyone who can "
            "read it can read these memories.",
            err=True,
        )
    if out is None:
        for line in lines:
            click.echo(line)
        return
    # Written beside the target and renamed into place, so a failure leaves no half file.
    try:
        fd, temp = tempfile.mkstemp(dir=folder, prefix=f".{out.name}.")
    except OSError as exc:
        raise UserError(f"cannot write {printable(out)}: {exc.strerror or exc}.") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            count = 0
            for line in lines:
                handle.write(line + "\n")
                count += is_memory_line(line)
        os.replace(temp, out)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    click.echo(f"exported {count} memories to {printable(out)}", err=True)


@click.command("import")
@click.argument("source", type=click.File("r", encoding="utf-8"))
@home_option
@json_option
@click.pass_context
def import_command(ctx: click.Context, source: Any, home: Path | None, as_json: bool) -> None:
    """Read memories from a JSONL export (- for stdin). All or nothing; known ones are skipped."""
    try:
        lines = source.readlines()
    except UnicodeDecodeError:
        raise UserError(f"{source.name} is not UTF-8 text; is it a papertape export?") from None
    report = open_local(ctx, home, writes=True).import_(lines)
    if not report.closed:
        click.echo(
            "papertape: the file does not end with an export's last line, so it may have been "
            "cut short (exports made by earlier versions of papertape often have none).",
            err=True,
        )
    if as_json:
        echo_json(report.__dict__)
    else:
        click.echo(
            f"imported {report.imported}, already present {report.duplicates}"
            + (f", re-embedded {report.reembedded}" if report.reembedded else "")
        )
