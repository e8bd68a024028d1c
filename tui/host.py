"""The running PapertapeApp, typed, for the widgets and screens inside it."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.dom import DOMNode

if TYPE_CHECKING:
    from tui.app import PapertapeApp


def host(node: DOMNode) -> PapertapeApp:
    return cast("PapertapeApp", node.app)
