"""How much one request or one note may carry (`max_request_mb`), checked before it is read
whole: a note on stdin is read up to the limit and no further, the daemon reads a request
line up to the limit and no further (agent/daemon/api.py)."""

from __future__ import annotations

from typing import IO, Any

from agent.errors import UserError
from agent.settings import Settings


def request_limit_bytes(settings: Settings) -> int:
    return int(settings.max_request_mb * 1_000_000)


def _limit_text(settings: Settings) -> str:
    return f"the {settings.max_request_mb:g} MB limit (max_request_mb)"


def request_too_big(settings: Settings) -> str:
    return (
        f"the request is over {_limit_text(settings)}, so it was not read: split the note, "
        "or raise max_request_mb in config.toml."
    )


def check_utf8(text: str, what: str) -> None:
    """Refuse text holding bytes that were not UTF-8 (an argument typed in another encoding
    arrives as lone surrogates): no file papertape writes could hold it."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        char = text[exc.start]
        byte = f"byte 0x{ord(char) - 0xDC00:02x}" if "\udc80" <= char <= "\udcff" else repr(char)
        raise UserError(
            f"{what} is not UTF-8 text ({byte} at character {exc.start + 1}): give it in UTF-8."
        ) from None


def check_note(text: str, settings: Settings) -> None:
    """Refuse a note whose UTF-8 text is over the limit, or that is not UTF-8."""
    check_utf8(text, "the note")
    limit = request_limit_bytes(settings)
    if len(text) <= limit // 4:  # four bytes a character at most: no need to count
        return
    size = len(text.encode("utf-8", errors="surrogatepass"))
    if size > limit:
        raise UserError(
            f"the note is {size / 1e6:.1f} MB, over {_limit_text(settings)}: split it, or "
            "raise max_request_mb in config.toml."
        )


def read_note(stream: IO[Any], settings: Settings) -> str:
    """A note from `stream` (stdin) as text, refused without reading past the limit."""
    limit = request_limit_bytes(settings)
    data = getattr(stream, "buffer", stream).read(limit + 1)  # bytes, unless no buffer
    too_big = UserError(
        f"the note on stdin is over {_limit_text(settings)}: split it, or raise "
        "max_request_mb in config.toml."
    )
    if len(data) > limit:
        raise too_big
    if isinstance(data, str):
        check_note(data, settings)
        return data
    try:
        return bytes(data).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UserError(
            "stdin is not UTF-8 text; convert it (iconv -t UTF-8) and try again."
        ) from None
