"""Exclusion rules: apps, window titles and folders whose contents are never taken in."""

from __future__ import annotations

import fnmatch
from pathlib import Path

from agent.settings import Settings


def _patterns(setting: str) -> list[str]:
    return [p.strip().lower() for p in setting.split(",") if p.strip()]


def _matches(value: str, patterns: list[str]) -> bool:
    value = value.lower()
    return any(
        fnmatch.fnmatch(value, p) or (not any(c in p for c in "*?[") and p in value)
        for p in patterns
    )


def excluded_folder(path: Path, settings: Settings) -> str | None:
    """The rule that excludes `path`, if a folder rule covers it."""
    resolved = path.resolve()
    for folder in _patterns(settings.exclude_folders):
        root = Path(folder).expanduser().resolve()
        if resolved == root or root in resolved.parents:
            return f"exclude_folders ({folder})"
    return None


def excluded_screen(app: str, window: str, settings: Settings) -> str | None:
    if app and _matches(app, _patterns(settings.exclude_apps)):
        return f"exclude_apps ({app})"
    if window and _matches(window, _patterns(settings.exclude_windows)):
        return f"exclude_windows ({window})"
    return None
