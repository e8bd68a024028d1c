"""The words of a text in any language, knowing no language's vocabulary: Unicode word runs,
case-folded, and in scripts written without spaces (Chinese, Japanese, Thai) each character
one word."""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"\w+", re.UNICODE)
_DIGITS = re.compile(r"\d+")  # decimal digits of any script
# Unicode scripts written without spaces between words.
_UNSPACED = ("CJK", "HIRAGANA", "KATAKANA", "HANGUL", "THAI", "LAO", "KHMER", "MYANMAR")


def _unspaced(char: str) -> bool:
    return unicodedata.name(char, "").startswith(_UNSPACED)


def words(text: str) -> set[str]:
    """The text's words, case-folded; each character of an unspaced script is one word."""
    found: set[str] = set()
    for run in _WORD.findall(unicodedata.normalize("NFKC", text).casefold()):
        if any(_unspaced(c) for c in run):
            piece = ""
            for char in run:
                if _unspaced(char):
                    if piece:
                        found.add(piece)
                        piece = ""
                    found.add(char)
                else:
                    piece += char
            if piece:
                found.add(piece)
        else:
            found.add(run)
    return found


def numbers(text: str) -> set[int]:
    """The numbers its digit runs write ("05" and "5" are one), in any script's digits."""
    return {int(run) for run in _DIGITS.findall(text)}
