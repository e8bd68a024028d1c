"""Short labels shared by every view: tier badges, dates, one-line snippets."""

from __future__ import annotations

from datetime import datetime

TIER_STYLE = {"sharp": "bold green", "hazy": "yellow", "archive": "dim"}


def badge(tier: str, pinned: bool = False) -> str:
    """The tier, coloured, and "pinned" after it for a memory that never fades."""
    return f"[{TIER_STYLE.get(tier, '')}]{tier}[/]" + (" [b]pinned[/b]" if pinned else "")


def day(epoch: float) -> str:
    return datetime.fromtimestamp(epoch).astimezone().strftime("%Y-%m-%d")


def moment(epoch: float | None) -> str:
    if epoch is None:
        return "never"
    return datetime.fromtimestamp(epoch).astimezone().strftime("%Y-%m-%d %H:%M")


def history(replaced_by: int | None) -> str:
    """The mark of a fact a newer one updated (a moved appointment's first time), or ""."""
    return "" if replaced_by is None else f"[i]history: updated by #{replaced_by}[/i] · "


def literal(text: str) -> str:
    """Stored text as it reads, inside markup: "[/]" or "[b]" in a note is not styling."""
    return text.replace("[", "\\[")


def snippet(text: str, width: int = 70) -> str:
    """The text on one line, cut to `width`, for markup (escaped by `literal`)."""
    flat = " ".join(text.split())
    return literal(flat if len(flat) <= width else flat[: width - 1] + "…")
