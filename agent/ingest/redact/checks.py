"""Checks that tell a secret from a string of the same shape: checksums (Luhn, IBAN mod-97),
card prefixes, and what makes a long random-looking string a key rather than a URL, a path, a
dotted name or an identifier."""

from __future__ import annotations

import math
import re
from collections import Counter

# Lengths of IBANs by country (ISO 13616 registry); another country's must be 15-34 long.
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
    "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18,
    "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24,
    "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24,
    "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_ok(compact: str) -> bool:
    """An IBAN without spaces: its country's length and the mod-97 check (ISO 7064)."""
    compact = compact.upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", compact):
        return False
    if len(compact) != IBAN_LENGTHS.get(compact[:2], len(compact)):
        return False
    moved = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


def card_prefix(digits: str) -> bool:
    """The number starts like a payment card (Visa, Mastercard, Amex, Discover, JCB, Diners,
    UnionPay, Maestro) and has that card's length."""
    n = len(digits)
    two, four = int(digits[:2]), int(digits[:4])
    if digits[0] == "4":
        return n in (13, 16, 19)
    if 51 <= two <= 55 or 2221 <= four <= 2720:
        return n == 16
    if two in (34, 37):
        return n == 15
    if digits.startswith("6011") or two == 65 or 644 <= int(digits[:3]) <= 649:
        return n in (16, 19)
    if 3528 <= four <= 3589:
        return 16 <= n <= 19
    if two in (36, 38) or 300 <= int(digits[:3]) <= 305:
        return 14 <= n <= 19
    if two == 62 or two == 50 or 56 <= two <= 69:
        return 16 <= n <= 19
    return False


def entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def _mean_case_run(text: str) -> float:
    """Mean length of runs of letters of one case: long in identifiers made of words
    ("ReflectionToStringBuilder"), short in random keys."""
    runs = re.findall(r"[a-z]+|[A-Z]+", text)
    return sum(map(len, runs)) / len(runs) if runs else 0.0


def random_looking(candidate: str) -> bool:
    """Letters and digits mixed, 4+ bits of entropy a character, not made of words."""
    has_letters = any(c.isalpha() for c in candidate)
    has_digits = any(c.isdigit() for c in candidate)
    return (
        has_letters and has_digits and entropy(candidate) >= 4.0 and _mean_case_run(candidate) < 3.5
    )


_URL = re.compile(r"^(?:[a-z][a-z0-9+.\-]*://|www\.|mailto:|data:)", re.IGNORECASE)
_PATH = re.compile(r"^(?:/|~/|\./|\.\./|[A-Za-z]:\\|\\\\)")
_DOTTED = re.compile(r"^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$-]*){2,}")
_INTEGRITY = re.compile(r"^sha(?:1|256|384|512)-", re.IGNORECASE)
_EDGE = "\"'`()[]{}<>,;"


def token_around(text: str, start: int, end: int) -> str:
    """The whitespace-delimited word holding text[start:end], without quotes and brackets
    at its edges, nor a full stop at its end."""
    left = start
    while left > 0 and not text[left - 1].isspace():
        left -= 1
    right = end
    while right < len(text) and not text[right].isspace():
        right += 1
    return text[left:right].strip(_EDGE).rstrip(".:!?").strip(_EDGE)


def ordinary_context(token: str) -> bool:
    """A URL, a data URI, a file path, a dotted name (org.example.Class, a.b.c()) or a
    subresource-integrity hash: long and random-looking at times, but not a secret."""
    # src="data:..." or href=https://...: the value after a name is judged too.
    inner = token.split("=", 1)[1].strip(_EDGE) if re.match(r"^[\w-]+=", token) else token
    for word in (token, inner):
        if _URL.match(word) or "://" in word or _PATH.match(word) or "\\" in word:
            return True
        if _DOTTED.match(word) or _INTEGRITY.match(word):
            return True
        if "/" in word and any(ch in word for ch in "._-"):
            return True  # base64 holds "/" or "-_", never both, and never a dot: a path
    return False
