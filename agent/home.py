"""The home folder is private: the folder and every folder in it 0700, every file 0600.

papertape's entry points set a umask of 0o077, so whatever they create (the store and its
WAL, logs, the inbox, models, exports) is born private; the store's own files are also
created 0600 explicitly (storage/store.py). A home made by an older papertape, or files
copied in by hand, are repaired when the home is opened: `repair` returns what it changed,
so the CLI can say so, once.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

UMASK = 0o077
DIR_MODE = 0o700
FILE_MODE = 0o600


# What papertape keeps in a home: files named papertape* (the store, its cold file, their
# WAL and shared memory, the daemon's socket), these files, and these folders with all in
# them. Nothing else is touched: a home may be a folder that also holds the person's files.
OWN_PREFIX = "papertape"
OWN_FILES = ("config.toml", "daemon.lock")
OWN_FOLDERS = ("logs", "inbox", "models", "captures")


def repair(home: Path) -> list[Path]:
    """Take group and other permissions off the home and what papertape keeps in it
    (symlinks are left alone: their targets are not papertape's). Returns the paths changed;
    nothing when `home` holds no papertape store."""
    if not any(home.glob(f"{OWN_PREFIX}*.db")):
        return []
    changed = [home] if _tighten(home, DIR_MODE) else []
    for entry in sorted(home.iterdir()):
        name = entry.name
        if name.startswith(OWN_PREFIX) or name in OWN_FILES:
            changed += [entry] if _tighten(entry, FILE_MODE) else []
        elif name in OWN_FOLDERS and entry.is_dir() and not entry.is_symlink():
            changed += [entry] if _tighten(entry, DIR_MODE) else []
            for root, dirs, files in os.walk(entry):
                for part in dirs + files:
                    path = Path(root) / part
                    if _tighten(path, DIR_MODE if part in dirs else FILE_MODE):
                        changed.append(path)
    return changed


def _tighten(path: Path, wanted: int) -> bool:
    try:
        info = path.lstat()
    except OSError:  # gone since the walk listed it
        return False
    if stat.S_ISLNK(info.st_mode) or not info.st_mode & 0o077:
        return False
    # Keep the owner's own bits (an executable stays executable); drop everyone else's.
    mode = (stat.S_IMODE(info.st_mode) & 0o700) | (wanted & 0o700)
    try:
        os.chmod(path, mode)
    except OSError:
        return False
    return True
