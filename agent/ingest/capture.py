"""One screenshot of the screen, where there is a display: macOS or X11.

The picture is written with the frontmost app and window title in its PNG text chunks (when
the system says them), ingested like any screenshot (OCR, redaction, thumbnail) and then
deleted: only the memory and its redacted thumbnail stay.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from pathlib import Path

from agent.errors import Failure, UserError


def display_available() -> bool:
    return platform.system() == "Darwin" or bool(os.environ.get("DISPLAY"))


def _ask(command: list[str]) -> str:
    if shutil.which(command[0]) is None:
        return ""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def front_window() -> tuple[str, str]:
    """(app, window title) of what is in front, or empty strings when unknown."""
    if platform.system() == "Darwin":
        app = _ask(
            [
                "osascript",
                "-e",
                'tell application "System Events" to get name of first application process '
                "whose frontmost is true",
            ]
        )
        return app, ""
    window = _ask(["xdotool", "getactivewindow", "getwindowname"])
    return "", window


def capture_screen(target: Path) -> Path:
    """Write a PNG of the whole screen to `target` (with app and window when known)."""
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    if not display_available():
        raise UserError(
            "there is no display to capture here (not macOS, and $DISPLAY is not set); "
            "ingest screenshot files instead."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    app, window = front_window()
    raw = target.with_suffix(".raw.png")
    if platform.system() == "Darwin":
        done = subprocess.run(["screencapture", "-x", str(raw)], capture_output=True)
        if done.returncode != 0 or not raw.exists():
            raise Failure(
                "screencapture failed; allow the terminal to record the screen in System "
                "Settings > Privacy & Security > Screen Recording."
            )
        image: Image.Image = Image.open(raw)
    else:
        from PIL import ImageGrab

        try:
            image = ImageGrab.grab(xdisplay=os.environ.get("DISPLAY"))
        except OSError as exc:
            raise Failure(f"the X display could not be captured ({exc}).") from None
    info = PngInfo()
    if app:
        info.add_text("app", app)
    if window:
        info.add_text("window", window)
    image.save(target, format="PNG", pnginfo=info)
    raw.unlink(missing_ok=True)
    return target
