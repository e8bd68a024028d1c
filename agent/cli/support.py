"""Pieces every papertape command shares: common options, the service, JSON printing."""

from __future__ import annotations

import json
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from agent import home as private_home
from agent.api import MemoryService
from agent.cli.terminal import printable
from agent.errors import UserError
from agent.service import Papertape
from agent.settings import Settings, load_settings
from storage import store_files

F = TypeVar("F", bound=Callable[..., Any])


class _Folder(click.Path):
    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        # click would read "" as the current folder: it is a variable that expanded to nothing.
        if isinstance(value, str) and not value.strip():
            raise UserError("--home is empty: give papertape a folder for its data.")
        return super().convert(value, param, ctx)


def home_option(func: F) -> F:
    return click.option(
        "--home",
        type=_Folder(file_okay=False, path_type=Path),
        default=None,
        help="Data folder (default: $PAPERTAPE_HOME, else the platform's user data folder).",
    )(func)


def now_option(func: F) -> F:
    return click.option(
        "--now",
        "now_text",
        metavar="TIME",
        default=None,
        help="Pretend it is TIME (ISO 8601); default $PAPERTAPE_NOW, else the clock.",
    )(func)


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for programs.")(func)


def settings_for(ctx: click.Context, home: Path | None) -> Settings:
    """Settings for the home given on this command, else on the group, else the default.
    A home that others could read (made by an older papertape) is made private, and the
    person told once."""
    settings = load_settings(home or ctx.find_root().params.get("home"))
    if settings.home.exists() and not settings.home.is_dir():
        raise UserError(
            f"{printable(settings.home)} is a file, not a folder: give papertape a folder for "
            "its data (--home or PAPERTAPE_HOME; it is made if missing)."
        )
    if settings.home.is_dir():
        repaired = private_home.repair(settings.home)
        if repaired:
            count = len(repaired)
            click.echo(
                f"papertape: {count} path{' was' if count == 1 else 's were'} in "
                f"{printable(settings.home)} readable by other users; made private "
                "(folders 0700, files 0600).",
                err=True,
            )
    return settings


def open_app(ctx: click.Context, home: Path | None) -> MemoryService:
    """The service for this command: through the daemon when one runs, else in-process."""
    from agent.daemon.client import open_papertape

    settings = settings_for(ctx, home)
    app = open_papertape(settings)
    ctx.call_on_close(app.close)
    _tell_if_made(ctx, settings, app)
    return app


NEW_STORE = "new_store"  # set in the root context's obj when a command made the store


@dataclass(frozen=True)
class NewStore:
    """A store this command made: said once it succeeds, taken away again when it fails
    before anything was kept in it."""

    home: Path
    store_path: Path
    home_was_made: bool  # the folder too did not exist before the command
    empty: bool


def _tell_if_made(ctx: click.Context, settings: Settings, app: MemoryService) -> None:
    """Note it when this command makes the store, for main to say once the command has
    succeeded (a mistyped --home otherwise answers from a new, empty store as if nothing
    were kept), or to remove once it has failed with the store still empty."""
    if settings.store_path.exists():
        return
    shared = ctx.find_root().obj
    home_was_made = not settings.home.exists()

    def made() -> None:  # runs before the app's own close: it was registered after it
        if settings.store_path.exists() and isinstance(shared, dict):
            try:
                empty = app.is_empty()
            except Exception:  # a store that cannot be read is not taken away
                empty = False
            shared[NEW_STORE] = NewStore(settings.home, settings.store_path, home_was_made, empty)

    ctx.call_on_close(made)


def take_away(made: NewStore) -> None:
    """Remove a store a failed command made and kept nothing in, and its folder when that
    was made too: a mistyped --home or a refused import leaves nothing behind."""
    if not made.empty:
        return
    if made.home_was_made:
        shutil.rmtree(made.home, ignore_errors=True)
        return
    for path in store_files(made.store_path):
        path.unlink(missing_ok=True)


def open_local(ctx: click.Context, home: Path | None, *, writes: bool) -> Papertape:
    """The service in-process, for commands the daemon does not serve. One that writes is
    refused while a daemon runs: the daemon is the home's one writer."""
    settings = settings_for(ctx, home)
    if writes:
        from agent.daemon.paths import running_pid

        pid = running_pid(settings)
        if pid is not None:
            raise UserError(
                f"the daemon (pid {pid}) is the only writer of {printable(settings.home)}: "
                f"stop it first (papertape daemon stop), then run {ctx.info_name} again."
            )
    app = Papertape(settings)
    ctx.call_on_close(app.close)
    _tell_if_made(ctx, settings, app)
    return app


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


BAR_WIDTH = 24
HEARTBEAT_S = 30.0  # between progress lines when stderr is not a terminal


def progress_bar(done: int, total: int, label: str) -> str:
    """One line: a bar, done/total and what is being done ("[#####-----] 3/10 facts: ...")."""
    filled = BAR_WIDTH * done // total if total else BAR_WIDTH
    name = label if len(label) < 50 else "…" + label[-49:]
    return f"[{'#' * filled}{'-' * (BAR_WIDTH - filled)}] {done}/{total} {name}"


def progress_printer(
    heartbeat_s: float = HEARTBEAT_S,
) -> Callable[[int, int, str], None]:
    """A progress bar on stderr: redrawn in place on a terminal; piped or logged, one line
    every `heartbeat_s` seconds, so a long run is seen to be working."""
    if not sys.stderr.isatty():
        last = time.monotonic()

        def heartbeat(done: int, total: int, label: str) -> None:
            nonlocal last
            if time.monotonic() - last >= heartbeat_s:
                last = time.monotonic()
                click.echo(progress_bar(done, total, printable(label)), err=True)

        return heartbeat

    def show(done: int, total: int, label: str) -> None:
        click.echo(
            f"\r\x1b[2K{progress_bar(done, total, printable(label))}", err=True, nl=done == total
        )

    return show
