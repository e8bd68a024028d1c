"""The capture command: one screenshot of the screen, remembered like any screenshot."""

from __future__ import annotations

from pathlib import Path

import click

from agent.cli.support import echo_json, home_option, json_option, now_option, open_app
from agent.cli.terminal import printable
from agent.clock import resolve_now


@click.command()
@home_option
@now_option
@json_option
@click.pass_context
def capture(ctx: click.Context, home: Path | None, now_text: str | None, as_json: bool) -> None:
    """Take one screenshot of the screen and remember what it shows (macOS or X11).

    The text is read on this machine, secrets are redacted and blacked out, and only the
    memory and a small thumbnail are kept; the screenshot itself is deleted."""
    from agent.ingest.capture import capture_screen

    now = resolve_now(now_text)
    app = open_app(ctx, home)
    shot = capture_screen(app.settings.home / "captures" / f"screen-{int(now)}.png")
    try:
        (result,) = app.ingest([shot], now=now)
    finally:
        shot.unlink(missing_ok=True)
    if as_json:
        echo_json({"id": result.memory_id, "status": result.status, "reason": result.reason})
    elif result.status in ("stored", "duplicate"):
        click.echo(result.memory_id)
    else:
        click.echo(f"papertape: the screenshot {printable(result.reason)}.", err=True)
    if result.status == "rejected":
        ctx.exit(2)
