"""Where an encrypted store's passphrase comes from: PAPERTAPE_PASSPHRASE, the OS keyring
(macOS Keychain, Secret Service on Linux, through the optional `keyring` package), or the
terminal, in that order. The cipher stretches it (storage/cipher.py); papertape never writes
it anywhere but the keyring, and only when asked to (`--keyring`).
"""

from __future__ import annotations

import getpass
import os
import sys
from dataclasses import dataclass
from typing import Any

from agent.errors import UserError
from agent.settings import NEW_PASSPHRASE_ENV, PASSPHRASE_ENV, Settings
from storage.cipher import Key
from storage.convert import state

__all__ = ["NEW_PASSPHRASE_ENV", "PASSPHRASE_ENV", "Unlocked", "unlock"]
KEYRING_SERVICE = "papertape"
MIN_CHARS = 8


@dataclass(frozen=True)
class Unlocked:
    """The key for a store and where it came from ("environment", "keyring", "terminal"),
    or no key for a plain store ("plain")."""

    key: Key | None
    origin: str


def _keyring() -> Any | None:
    """The keyring module when it is installed and has a usable backend, else None."""
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:
        return None
    try:
        backend = keyring.get_keyring()
    except Exception:  # a broken backend configuration is no keyring
        return None
    if isinstance(backend, fail.Keyring) or getattr(backend, "priority", 1) <= 0:
        return None
    return keyring


def keyring_status() -> str:
    """One phrase for doctor: which keyring backend serves, or why none does."""
    try:
        import keyring
    except ImportError:
        return "not installed (pip install 'papertape[keyring]')"
    module = _keyring()
    if module is None:
        return "installed, but no keyring backend on this machine"
    backend = keyring.get_keyring()
    return f"available ({type(backend).__module__}.{type(backend).__name__})"


def _account(settings: Settings) -> str:
    return str(settings.store_path)


def from_keyring(settings: Settings) -> Key | None:
    module = _keyring()
    if module is None:
        return None
    try:
        found = module.get_password(KEYRING_SERVICE, _account(settings))
    except Exception:  # a locked or unreachable keyring: ask elsewhere
        return None
    return Key(found) if found else None


def require_keyring() -> Any:
    module = _keyring()
    if module is None:
        raise UserError(
            f"there is no OS keyring here ({keyring_status()}): nothing was changed; leave out "
            f"--keyring and give the passphrase in {PASSPHRASE_ENV} or on the terminal."
        )
    return module


def save_to_keyring(settings: Settings, key: Key) -> None:
    module = require_keyring()
    module.set_password(KEYRING_SERVICE, _account(settings), key.passphrase)


def forget_keyring(settings: Settings) -> bool:
    """Take the store's passphrase out of the keyring; whether one was there."""
    module = _keyring()
    if module is None or from_keyring(settings) is None:
        return False
    module.delete_password(KEYRING_SERVICE, _account(settings))
    return True


def interactive() -> bool:
    return sys.stdin.isatty() and sys.stderr.isatty()


def unlock(settings: Settings) -> Unlocked:
    """The key the store needs: none for a plain store (or a new one, unless the encrypt
    setting asks for it); else from the environment, the keyring or the terminal. Refused
    with one sentence when none of them can give it."""
    found = state(settings.store_path)
    if found == "plain" or (found == "missing" and not settings.encrypt):
        return Unlocked(None, "plain")
    if found == "missing":
        return new_key(settings, what="a passphrase for the new encrypted store")
    return current_key(settings)


def current_key(settings: Settings) -> Unlocked:
    """The passphrase of an existing encrypted store (not checked here: opening does)."""
    given = os.environ.get(PASSPHRASE_ENV)
    if given:
        return Unlocked(Key(given), "environment")
    stored = from_keyring(settings)
    if stored is not None:
        return Unlocked(stored, "keyring")
    if interactive():
        typed = getpass.getpass(f"passphrase for {settings.store_path}: ")
        if typed:
            return Unlocked(Key(typed), "terminal")
    raise UserError(
        f"the store at {settings.store_path} is encrypted and no passphrase was given: set "
        f"{PASSPHRASE_ENV}, keep it in the OS keyring (papertape passphrase --keyring "
        "--unchanged), or run papertape in a terminal to be asked."
    )


def new_key(settings: Settings, *, what: str, env: str = PASSPHRASE_ENV) -> Unlocked:
    """A new passphrase: from `env`, else typed twice on the terminal."""
    given = os.environ.get(env)
    if given:
        return Unlocked(checked(given, env), "environment")
    if not interactive():
        raise UserError(
            f"{what} is needed and this is not a terminal: set {env} (at least "
            f"{MIN_CHARS} characters)."
        )
    first = getpass.getpass(f"{what} (at least {MIN_CHARS} characters): ")
    key = checked(first, "the passphrase")
    if getpass.getpass("the same again: ") != first:
        raise UserError("the two passphrases differ: nothing was changed; try again.")
    return Unlocked(key, "terminal")


def checked(passphrase: str, origin: str) -> Key:
    if len(passphrase) < MIN_CHARS:
        raise UserError(
            f"{origin} is too short: use at least {MIN_CHARS} characters (a few words are "
            "easier to remember and harder to guess)."
        )
    return Key(passphrase)
