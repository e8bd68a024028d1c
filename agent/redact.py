"""Secrets found in text are replaced before anything is stored.

Found: API keys and tokens in their providers' formats (AWS, GitHub, OpenAI, Anthropic,
Slack, Google, Stripe, JSON web tokens), private key blocks, whatever follows a password
label, card numbers that pass the Luhn check, and long high-entropy strings (32+ characters
mixing letters and digits at 4+ bits of entropy per character). Each becomes
"[redacted <kind>]"; callers learn how many of each kind, never the secret.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "private key",
        re.compile(
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----.*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE "
            r"KEY-----|\Z)",
            re.DOTALL,
        ),
    ),
    ("aws key", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("github token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})")),
    ("anthropic key", re.compile(r"\bsk-ant-[A-Za-z0-9_\-]{20,}")),
    ("openai key", re.compile(r"\bsk-(?:proj-)?[A-Za-z0-9_\-]{20,}")),
    ("slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9\-]{10,}")),
    ("google key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}")),
    ("stripe key", re.compile(r"\b[rs]k_(?:live|test)_[0-9A-Za-z]{16,}")),
    ("token", re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}")),
    (
        "password",
        re.compile(
            r"(?i)\b(?:password|passwd|passphrase|pwd|pin code|passcode)\b\s*(?:is|[:=])\s*"
            r"(?P<secret>\S+)"
        ),
    ),
)
_CARD = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")
_LONG = re.compile(r"[A-Za-z0-9+/_\-=]{32,}")


@dataclass(frozen=True)
class Redaction:
    text: str
    counts: dict[str, int] = field(default_factory=dict)
    spans: tuple[tuple[int, int], ...] = ()  # where in the original text secrets were

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def _high_entropy(candidate: str) -> bool:
    has_letters = any(c.isalpha() for c in candidate)
    has_digits = any(c.isdigit() for c in candidate)
    return has_letters and has_digits and entropy(candidate) >= 4.0


def find_secrets(text: str) -> list[tuple[int, int, str]]:
    """(start, end, kind) of each secret, not overlapping, in order."""
    found: list[tuple[int, int, str]] = []

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e, _ in found)

    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            start, end = match.span("secret") if "secret" in pattern.groupindex else match.span()
            if end > start and free(start, end):
                found.append((start, end, kind))
    for match in _CARD.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if 13 <= len(digits) <= 19 and luhn_ok(digits) and free(*match.span()):
            found.append((*match.span(), "card number"))
    for match in _LONG.finditer(text):
        if _high_entropy(match.group()) and free(*match.span()):
            found.append((*match.span(), "secret"))
    return sorted(found)


def redact(text: str) -> Redaction:
    secrets = find_secrets(text)
    if not secrets:
        return Redaction(text)
    pieces = []
    last = 0
    for start, end, kind in secrets:
        pieces.append(text[last:start])
        pieces.append(f"[redacted {kind}]")
        last = end
    pieces.append(text[last:])
    counts = Counter(kind for _, _, kind in secrets)
    return Redaction("".join(pieces), dict(counts), tuple((s, e) for s, e, _ in secrets))
