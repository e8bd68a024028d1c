"""papertape daemon: run it in the foreground, or start, stop and ask after a detached one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import click

from agent.cli.support import echo_json, home_option, json_option, settings_for
from agent.cli.terminal import printable
from agent.clock import local_date
from agent.daemon.client import DaemonClient
from agent.daemon.paths import LOG_NAME, configure_logging, running_pid, socket_path
from agent.daemon.server import Daemon
from agent.errors import Failure
from agent.keys import Unlocked
from agent.service import Papertape
from agent.settings import PASSPHRASE_ENV, Settings

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 60.0


def _within(seconds: float, done: Callable[[], bool]) -> bool:
    """Whether `done()` comes true within `seconds`, asked five times a second."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if done():
            return True
        time.sleep(0.2)
    return False


@click.group(invoke_without_command=True)
@home_option
@click.pass_context
def daemon(ctx: click.Context, home: Path | None) -> None:
    """Run papertape in the background: a queue that loses nothing, scheduled consolidation,
    inbox folders, and a local API on a Unix socket the CLI and the UI use when it runs.

    With no subcommand it runs in the foreground (Ctrl-C stops it within seconds, even
    mid-job: what the job had not committed stays queued for the next start)."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(run, home=home)


@daemon.command()
@home_option
@click.pass_context
def run(ctx: click.Context, home: Path | None) -> None:
    """Run in the foreground, logging to the terminal and to logs/daemon.log in the home.

    An encrypted store's passphrase comes from PAPERTAPE_PASSPHRASE, the OS keyring or the
    terminal; without one the daemon does not start."""
    settings = settings_for(ctx, home)
    configure_logging(settings, to_terminal=True)
    Daemon(settings).run()


@daemon.command()
@home_option
@click.pass_context
def start(ctx: click.Context, home: Path | None) -> None:
    """Start a detached daemon and wait until it answers. An encrypted store's passphrase is
    asked here (or read from PAPERTAPE_PASSPHRASE or the OS keyring) and handed to it."""
    settings = settings_for(ctx, home)
    pid = running_pid(settings)
    if pid is not None:
        click.echo(f"the daemon is already running (pid {pid}).")
        return
    settings.home.mkdir(parents=True, exist_ok=True)
    out = settings.home / "logs" / "daemon.out"
    out.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    unlocked = _checked_key(settings)
    if unlocked.key is not None:
        # The detached daemon has no terminal to ask on: it gets the passphrase this command
        # was given (its environment is readable by this user alone).
        env[PASSPHRASE_ENV] = unlocked.key.passphrase
    with open(out, "ab") as sink:
        child = subprocess.Popen(
            [sys.executable, "-m", "agent.cli", "--home", str(settings.home), "daemon", "run"],
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=sink,
            env=env,
            start_new_session=True,  # not killed with this terminal
        )

    def answering() -> bool:
        if child.poll() is not None:
            raise Failure(f"the daemon stopped at once; see {out}.")
        return DaemonClient.find(settings) is not None

    if not _within(START_TIMEOUT_S, answering):
        raise Failure(f"the daemon did not answer within {START_TIMEOUT_S:.0f} s; see {out}.")
    click.echo(
        f"papertape daemon started (pid {child.pid}); log: {printable(settings.home / LOG_NAME)}"
    )


def _checked_key(settings: Settings) -> Unlocked:
    """The store's key, tried here, so a daemon without a usable one is never started."""
    with Papertape(settings) as app:
        app.store  # noqa: B018 (opens with the key, or refuses in one sentence)
        return app.unlocked


@daemon.command()
@home_option
@click.pass_context
def stop(ctx: click.Context, home: Path | None) -> None:
    """Stop the daemon (SIGTERM) and wait for it: within seconds, even mid-job; what the
    job had not committed stays queued for the next start."""
    settings = settings_for(ctx, home)
    pid = running_pid(settings)
    if pid is None or pid <= 0:
        click.echo("the daemon is not running.")
        return
    os.kill(pid, signal.SIGTERM)
    if not _within(STOP_TIMEOUT_S, lambda: running_pid(settings) is None):
        raise Failure(f"the daemon (pid {pid}) is still finishing after {STOP_TIMEOUT_S:.0f} s.")
    click.echo(f"papertape daemon stopped (pid {pid}).")


def next_run_text(iso: str | None) -> str:
    """A job's next run as people read it, in local time: "2026-12-07 03:52"."""
    if not iso:
        return "-"
    try:
        return local_date(datetime.fromisoformat(iso).timestamp())
    except ValueError:
        return printable(iso)


@daemon.command()
@home_option
@json_option
@click.pass_context
def status(ctx: click.Context, home: Path | None, as_json: bool) -> None:
    """Whether the daemon runs, its queue and its jobs' next runs. Exits 0 when it runs, 3
    when it does not, and 1 when it holds its lock but does not answer."""
    settings = settings_for(ctx, home)
    client = DaemonClient.find(settings)
    if client is None:
        pid = running_pid(settings)
        state = {"running": False, "pid": pid, "socket": str(socket_path(settings))}
        if as_json:
            echo_json(state)
        else:
            click.echo(
                "the daemon is not running."
                if pid is None
                else f"a daemon holds the lock (pid {pid}) but does not answer."
            )
        ctx.exit(3 if pid is None else 1)  # as init scripts' status does, for scripts to test
    info = client.call("status")
    if as_json:
        echo_json({"running": True, **info})
        return
    click.echo(f"running: pid {info['pid']}, up {info['uptime_s']:.0f} s, {info['queued']} queued")
    for job in info["jobs"]:
        click.echo(f"  {job['name']:<12} next {next_run_text(job['next_run'])}")
    if info.get("last_error"):
        click.echo(f"  last error: {printable(info['last_error'])}")
