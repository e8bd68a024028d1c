"""The words of a text in any language, knowing no language's vocabulary: Unicode word runs,
case-folded, and in scripts written without spaces (Chinese, Japanese, Thai) each character
one word."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from storage.search import unspaced

_WORD = re.compile(r"\w+", re.UNICODE)
_DIGITS = re.compile(r"\d+")  # decimal digits of any script


def words(text: str) -> set[str]:
    """The text's words, case-folded; each character of an unspaced script is one word."""
    return {word for _, word in word_spans(unicodedata.normalize("NFKC", text))}


def word_spans(text: str) -> Iterator[tuple[int, str]]:
    """(offset in `text`, word case-folded) of each of its words, as `words` splits them."""
    for match in _WORD.finditer(text):
        run, start = match.group(), match.start()
        if not any(unspaced(c) for c in run):
            yield start, run.casefold()
            continue
        piece = ""
        for at, char in enumerate(run):
            if unspaced(char):
                if piece:
                    yield start + at - len(piece), piece.casefold()
                    piece = ""
                yield start + at, char.casefold()
            else:
                piece += char
        if piece:
            yield start + len(run) - len(piece), piece.casefold()


def numbers(text: str) -> set[int]:
    """The numbers its digit runs write ("05" and "5" are one), in any script's digits."""
    return {int(run) for run in _DIGITS.findall(text)}
