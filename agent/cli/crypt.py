"""Encryption commands: init (a new store, --encrypt), encrypt, decrypt, passphrase.

Each conversion rewrites both store files beside themselves and swaps them in only once the
copies are checked (storage/convert.py), with the home's daemon lock held so no daemon
starts meanwhile. A running daemon is refused: it holds the store open.
"""

from __future__ import annotations

import fcntl
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from agent import keys
from agent.cli.support import home_option, settings_for
from agent.cli.terminal import printable
from agent.daemon.paths import lock_path, running_pid
from agent.errors import Failure, UserError
from agent.ingest.inbox import old_copies
from agent.keys import Unlocked
from agent.service import Papertape
from agent.settings import NEW_PASSPHRASE_ENV, PASSPHRASE_ENV, Settings
from storage.cipher import KDF_ITER, Key
from storage.convert import convert, state
from storage.errors import StorageError

KEYRING_HELP = (
    "Keep the passphrase in the OS keyring (macOS Keychain, Secret Service on Linux), so "
    "papertape and its daemon open the store without asking."
)


@contextmanager
def _home_locked(settings: Settings) -> Iterator[None]:
    """Hold the home's daemon lock: no daemon runs while the store is rewritten."""
    settings.home.mkdir(mode=0o700, parents=True, exist_ok=True)
    with open(lock_path(settings), "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserError(
                f"the daemon is running for {settings.home} (pid {running_pid(settings)}) and "
                "holds the store open: papertape daemon stop, then try again."
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _prepare(settings: Settings, unlocked: Unlocked) -> None:
    """Open the store once with its key: checks the key and finishes any crash recovery
    (the cold journal) before the files are copied."""
    with Papertape(settings, unlocked=unlocked) as app:
        app.store  # noqa: B018


def _describe(path: Path) -> str:
    return "encrypted" if state(path) == "encrypted" else "not encrypted"


@click.command()
@click.option(
    "--encrypt",
    is_flag=True,
    help="Encrypt the new store; the passphrase is asked twice (or read from "
    "PAPERTAPE_PASSPHRASE).",
)
@click.option("--keyring", "use_keyring", is_flag=True, help=KEYRING_HELP)
@home_option
@click.pass_context
def init(ctx: click.Context, encrypt: bool, use_keyring: bool, home: Path | None) -> None:
    """Create the home and an empty store in it (done on first use anyway).

    With --encrypt every file of the store (memories, the keyword index, vectors, media,
    the daemon's queue) is encrypted with ChaCha20-Poly1305 under a key stretched from your
    passphrase. Lose the passphrase and the memories are gone: keep it somewhere safe."""
    settings = settings_for(ctx, home)
    found = state(settings.store_path)
    if found != "missing":
        hint = "papertape encrypt" if found == "plain" else "papertape passphrase"
        raise UserError(
            f"a store already exists at {settings.store_path} ({_describe(settings.store_path)})"
            f": nothing was changed; to change it, use {hint}."
        )
    if use_keyring and not (encrypt or settings.encrypt):
        raise UserError("--keyring keeps an encrypted store's passphrase: add --encrypt.")
    if use_keyring:
        keys.require_keyring()
    unlocked = Unlocked(None, "plain")
    if encrypt or settings.encrypt:
        unlocked = keys.new_key(settings, what="a passphrase for the new encrypted store")
        if use_keyring:
            keys.save_to_keyring(settings, unlocked.key)  # type: ignore[arg-type]
    with _home_locked(settings):
        _prepare(settings, unlocked)
    kind = "encrypted store" if unlocked.key is not None else "store"
    click.echo(f"created an empty {kind} at {printable(settings.store_path)}")


@click.command()
@click.option("--keyring", "use_keyring", is_flag=True, help=KEYRING_HELP)
@home_option
@click.pass_context
def encrypt(ctx: click.Context, use_keyring: bool, home: Path | None) -> None:
    """Encrypt an existing store in place, both files, with a new passphrase.

    The store is copied encrypted beside itself, the copy checked, then swapped in: a crash
    or kill at any point leaves one whole store, plain or encrypted. Stop the daemon first.
    PAPERTAPE_PASSPHRASE gives the passphrase in scripts."""
    settings = settings_for(ctx, home)
    found = state(settings.store_path)
    if found == "missing":
        raise UserError(
            f"there is no store at {settings.store_path}: papertape init --encrypt makes a "
            "new encrypted one."
        )
    if found == "encrypted":
        raise UserError(
            f"the store at {settings.store_path} is already encrypted: papertape passphrase "
            "changes its passphrase."
        )
    if use_keyring:
        keys.require_keyring()
    with _home_locked(settings):
        _prepare(settings, Unlocked(None, "plain"))
        new = keys.new_key(settings, what="a passphrase for the store")
        assert new.key is not None
        _convert(settings, None, new.key)
    if use_keyring:
        keys.save_to_keyring(settings, new.key)
    click.echo(
        f"encrypted {printable(settings.store_path)} and its cold file (ChaCha20-Poly1305, "
        f"{KDF_ITER:,} PBKDF2 rounds)"
        + ("; the passphrase is in the OS keyring" if use_keyring else "")
    )
    click.echo(
        "papertape export writes plaintext: keep exports somewhere as safe as the store.",
        err=True,
    )
    _warn_old_copies(settings)


def _warn_old_copies(settings: Settings) -> None:
    copies = old_copies(settings)
    if copies:
        folder = copies[0].parent
        click.echo(
            f"papertape: {len(copies)} file(s) under {printable(folder)} are plaintext copies "
            "an earlier papertape kept of what it took in; encryption does not cover them: "
            "delete them.",
            err=True,
        )


@click.command()
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@home_option
@click.pass_context
def decrypt(ctx: click.Context, yes: bool, home: Path | None) -> None:
    """Turn an encrypted store back into plain SQLite files anyone with access can read.

    Asks first (--yes in scripts). Crash-safe like encrypt; the passphrase is taken out of
    the OS keyring afterwards."""
    settings = settings_for(ctx, home)
    found = state(settings.store_path)
    if found != "encrypted":
        raise UserError(
            f"the store at {settings.store_path} is not encrypted"
            + (" (there is none yet)" if found == "missing" else "")
            + ": there is nothing to decrypt."
        )
    if not yes:
        if not sys.stdin.isatty():
            raise UserError(
                "decrypt leaves your memories readable by anyone with the files and cannot "
                "ask here (stdin is not a terminal): add --yes to confirm."
            )
        click.confirm("Store your memories unencrypted from now on?", abort=True)
    with _home_locked(settings):
        current = keys.current_key(settings)
        _prepare(settings, current)
        assert current.key is not None
        _convert(settings, current.key, None)
    keys.forget_keyring(settings)
    click.echo(f"decrypted {printable(settings.store_path)}: it is plain SQLite again")


@click.command()
@click.option("--keyring/--no-keyring", "use_keyring", default=None, help=KEYRING_HELP)
@click.option(
    "--unchanged",
    is_flag=True,
    help="Keep the passphrase as it is: with --keyring, only put it (checked) in the OS keyring; "
    "with --no-keyring, only take it out.",
)
@home_option
@click.pass_context
def passphrase(
    ctx: click.Context, use_keyring: bool | None, unchanged: bool, home: Path | None
) -> None:
    """Change an encrypted store's passphrase (re-keys both files, crash-safe).

    The current passphrase comes from PAPERTAPE_PASSPHRASE, the OS keyring or the terminal;
    the new one from PAPERTAPE_NEW_PASSPHRASE or the terminal (twice). --keyring keeps the
    new one in the OS keyring, --no-keyring takes it out; by default a passphrase already
    kept there is replaced."""
    settings = settings_for(ctx, home)
    if state(settings.store_path) != "encrypted":
        raise UserError(
            f"the store at {settings.store_path} is not encrypted: papertape encrypt "
            "encrypts it with a passphrase."
        )
    if use_keyring:
        keys.require_keyring()  # before anything changes
    if unchanged:
        _keyring_only(settings, use_keyring)
        return
    with _home_locked(settings):
        current = keys.current_key(settings)
        _prepare(settings, current)
        new = keys.new_key(settings, what="the new passphrase", env=NEW_PASSPHRASE_ENV)
        assert current.key is not None
        assert new.key is not None
        if new.key == current.key:
            raise UserError("the new passphrase is the old one: nothing was changed.")
        _convert(settings, current.key, new.key)
    kept = keys.from_keyring(settings) is not None
    if use_keyring or (use_keyring is None and kept):
        keys.save_to_keyring(settings, new.key)
    elif use_keyring is False:
        keys.forget_keyring(settings)
    click.echo(f"the store at {printable(settings.store_path)} has its new passphrase")
    if current.origin == "environment":
        click.echo(f"papertape: update {PASSPHRASE_ENV} where you set it.", err=True)


def _keyring_only(settings: Settings, use_keyring: bool | None) -> None:
    if use_keyring is None:
        raise UserError("--unchanged goes with --keyring or --no-keyring: say which.")
    if not use_keyring:
        gone = keys.forget_keyring(settings)
        click.echo("taken out of the OS keyring" if gone else "the OS keyring did not hold it")
        return
    current = keys.current_key(settings)
    _prepare(settings, current)  # a wrong passphrase is refused, not kept
    assert current.key is not None
    keys.save_to_keyring(settings, current.key)
    click.echo("the passphrase is in the OS keyring; papertape opens the store without asking")


def _convert(settings: Settings, old: Key | None, new: Key | None) -> None:
    try:
        convert(settings.store_path, old, new)
    except StorageError as exc:
        raise Failure(str(exc)) from None
