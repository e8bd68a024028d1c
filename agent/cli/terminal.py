"""Text made safe to print on a terminal: control characters shown as escapes.

Stored text and file names come from outside: a file named "a\\n#9  stored  b" would forge a
line of a listing, a BEL or a backspace in a memory would ring or rub out what is shown, and
escape sequences could restyle the terminal. Everything papertape prints that it did not
write itself goes through `printable`; `--json` output is escaped by the JSON encoder.
"""

from __future__ import annotations

import re

# C0 and C1 controls and DEL, the invisible marks that reorder text (bidi overrides), and
# lone surrogates (the bytes of a file name that is not UTF-8, which cannot be printed).
_MARKS = "\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_UNSAFE = re.compile(f"[\x00-\x1f{_MARKS}]")
# Line breaks and tabs that a multi-line text may keep (never in a path or a one-line field).
_UNSAFE_BUT_LINES = re.compile(f"[\x00-\x08\x0b-\x1f{_MARKS}]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # a byte Python kept from an undecodable name
        code -= 0xDC00
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object) -> str:
    """One line: every control character (newlines too) as a visible escape, like \\x07."""
    return _UNSAFE.sub(_escape, str(text))


def printable_lines(text: str) -> str:
    """Text that may run over several lines: newlines and tabs kept, other controls escaped."""
    return _UNSAFE_BUT_LINES.sub(_escape, text)
