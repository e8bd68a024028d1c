"""Suggest the nearest valid name when someone mistypes a model name."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest_hint(name: str, valid: Iterable[str]) -> str:
    """' Did you mean 'x'?' for the closest valid name, or '' when none is close."""
    close = difflib.get_close_matches(name, list(valid), n=1)
    return f" Did you mean {close[0]!r}?" if close else ""
