"""Secrets found in text are replaced before anything is stored.

Found (agent/ingest/redact/formats.py, labelled.py, seeds.py; the labels in labels.py): providers'
keys and tokens (AWS, GitHub, GitLab, OpenAI, Anthropic, Slack, Google, Stripe, Mailgun,
SendGrid, Twilio, npm, PyPI, Hugging Face and others, JSON web tokens), private key blocks
(PEM, OpenSSH, PGP), passwords inside URLs, HTTP Basic and Bearer credentials, KEY=VALUE
settings named like a secret, what follows a password, PIN, API key, passport, SSN, recovery
code or seed phrase label (in English, German, French, Spanish, Portuguese, Dutch and
Chinese), IBANs that pass mod-97, US social security numbers, card numbers that pass Luhn and
have a card's prefix and a card's grouping or label, BIP-39 seed phrases, and long random
strings (32+ characters of letters and digits at 4+ bits a character) that are not part of a
URL, a path or a dotted name. Each becomes "[redacted <kind>]"; callers learn how many of each
kind, never the secret.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from agent.ingest.redact import labelled
from agent.ingest.redact.checks import (
    IBAN_LENGTHS,
    card_prefix,
    entropy,
    iban_ok,
    luhn_ok,
    ordinary_context,
    random_looking,
    token_around,
)
from agent.ingest.redact.formats import BASIC_AUTH, FORMATS, basic_credentials
from agent.ingest.redact.seeds import seed_runs

__all__ = [
    "Redaction",
    "entropy",
    "find_secrets",
    "iban_ok",
    "luhn_ok",
    "placed_kinds",
    "placeholders_as_words",
    "redact",
    "redact_parts",
]

Found = tuple[int, int, str]
_PLACED = re.compile(r"\[redacted ([a-z0-9 ]+)\]")  # already redacted: left as it is
# Four groups of a card's number, not part of a longer run of groups (an IBAN's digits).
_CARD_GROUPED = re.compile(
    r"(?<![\d\-])(?<!\d[ \-])(?:\d{4}(?P<a>[ \-])\d{4}(?P=a)\d{4}(?P=a)\d{4}(?:(?P=a)\d{1,3})?"
    r"|\d{4}(?P<b>[ \-])\d{6}(?P=b)\d{4,5})(?![\d\-])(?![ \-]\d)"
)
_CARD_PLAIN = re.compile(r"(?<![\d\-])\d{13,19}(?![\d\-])")
_IBAN_START = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?=[ A-Z0-9])")
_LONG = re.compile(r"[A-Za-z0-9+/_\-=]{32,}")


@dataclass(frozen=True)
class Redaction:
    text: str
    counts: dict[str, int] = field(default_factory=dict)
    spans: tuple[tuple[int, int], ...] = ()  # where in the original text secrets were

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _formats(text: str) -> Iterator[Found]:
    for kind, pattern in FORMATS:
        for match in pattern.finditer(text):
            group = "secret" if "secret" in pattern.groupindex else 0
            yield (*match.span(group), kind)
    for match in BASIC_AUTH.finditer(text):
        if basic_credentials(match.group("secret")):
            yield (*match.span("secret"), "http credentials")


def _ibans(text: str) -> Iterator[Found]:
    for match in _IBAN_START.finditer(text):
        country = match.group()[:2]
        compact, pos, ends = "", match.start(), []
        while pos < len(text) and len(compact) < 34:
            ch = text[pos]
            if ch.isalnum() and ch.isascii():
                compact += ch.upper()
                pos += 1
                if len(compact) >= 15 and not (pos < len(text) and text[pos].isalnum()):
                    ends.append((len(compact), pos))
            elif ch == " " and compact and pos + 1 < len(text) and text[pos + 1].isalnum():
                pos += 1
            else:
                break
        for length, end in reversed(ends):  # the longest valid reading wins
            if length == IBAN_LENGTHS.get(country, length) and iban_ok(compact[:length]):
                yield match.start(), end, "iban"
                break


def _cards(text: str) -> Iterator[Found]:
    def card(match: re.Match[str], grouped: bool) -> bool:
        digits = re.sub(r"\D", "", match.group())
        if not (luhn_ok(digits) and card_prefix(digits)):
            return False
        before = text[max(0, match.start() - 30) : match.start()]
        return grouped or labelled.CARD_LABEL.search(before) is not None

    for match in _CARD_GROUPED.finditer(text):
        if card(match, grouped=True):
            yield (*match.span(), "card number")
    for match in _CARD_PLAIN.finditer(text):
        if card(match, grouped=False):
            yield (*match.span(), "card number")


def _unlabelled(text: str) -> Iterator[Found]:
    for start, end in seed_runs(text):
        yield start, end, "seed phrase"


# A public key is made to be shared: the random string after its type is no secret.
_PUBLIC_KEY = re.compile(
    r"(?:ssh-(?:rsa|dss|ed25519)|ecdsa-sha2-nistp\d+|sk-ssh-ed25519@openssh\.com)\s+$"
)


def _random_strings(text: str) -> Iterator[Found]:
    for match in _LONG.finditer(text):
        candidate = match.group()
        if not random_looking(candidate) or _PUBLIC_KEY.search(
            text[max(0, match.start() - 40) : match.start()]
        ):
            continue
        if not ordinary_context(token_around(text, *match.span())):
            yield (*match.span(), "secret")


# In order of trust: a span found by an earlier rule is not looked at again.
RULES: tuple[Callable[[str], Iterator[Found]], ...] = (
    _formats,
    *labelled.RULES,
    _ibans,
    _cards,
    _unlabelled,
    _random_strings,
)


def find_secrets(text: str) -> list[Found]:
    """(start, end, kind) of each secret, not overlapping, in order."""
    taken = [(m.start(), m.end()) for m in _PLACED.finditer(text)]
    found: list[Found] = []
    for rule in RULES:
        for start, end, kind in rule(text):
            if end > start and all(end <= s or start >= e for s, e in taken):
                taken.append((start, end))
                found.append((start, end, kind))
    return sorted(found)


def _replace(text: str, secrets: Sequence[Found]) -> Redaction:
    pieces = []
    last = 0
    for start, end, kind in secrets:
        pieces.append(text[last:start])
        pieces.append(f"[redacted {kind}]")
        last = end
    pieces.append(text[last:])
    counts = Counter(kind for _, _, kind in secrets)
    return Redaction("".join(pieces), dict(counts), tuple((s, e) for s, e, _ in secrets))


def placed_kinds(text: str) -> list[str]:
    """The kinds of secret a stored text had taken out ("password"), each once, in order."""
    return list(dict.fromkeys(match.group(1) for match in _PLACED.finditer(text)))


def placeholders_as_words(text: str) -> str:
    """Each "[redacted <kind>]" written as one word of its own ("redacted_password"), so
    that a test reading words sees one placeholder standing for one secret of one kind,
    not the words "redacted" and "password" that every placeholder of that kind shares."""
    return _PLACED.sub(lambda m: " redacted_" + m.group(1).replace(" ", "_") + " ", text)


def redact(text: str) -> Redaction:
    secrets = find_secrets(text)
    return _replace(text, secrets) if secrets else Redaction(text)


def redact_parts(parts: Sequence[str], sep: str = "\n") -> list[Redaction]:
    """Redact the parts as one text joined by `sep` (a key block over many OCR lines, a seed
    over several stretches of speech), and give each part its own redaction: a secret is
    named and counted in the part where it starts, and cut from the parts it runs on into.
    Each part's spans are where in that part secret characters were."""
    secrets = find_secrets(sep.join(parts))
    results = []
    offset = 0
    for part in parts:
        end_of_part = offset + len(part)
        text_pieces: list[str] = []
        spans: list[tuple[int, int]] = []
        counts: Counter[str] = Counter()
        last = 0
        for start, end, kind in secrets:
            if end <= offset or start >= end_of_part:
                continue
            local_start, local_end = max(start, offset) - offset, min(end, end_of_part) - offset
            text_pieces.append(part[last:local_start])
            if start >= offset:
                text_pieces.append(f"[redacted {kind}]")
                counts[kind] += 1
            spans.append((local_start, local_end))
            last = local_end
        text_pieces.append(part[last:])
        results.append(Redaction("".join(text_pieces), dict(counts), tuple(spans)))
        offset = end_of_part + len(sep)
    return results
