"""Secrets known by what stands before them: "the password for the wifi is ...", "PIN: 4821",
"passport no. ...", "recovery codes: ...", "seed phrase: ...", and KEY=VALUE assignments whose
name ends in a secret's name (DB_PASSWORD=, "apiKey": , --token=). Labels are data, in
agent/ingest/redact/labels.py; here they become patterns and checks."""

from __future__ import annotations

import re
from collections.abc import Iterator

from agent.ingest.redact import labels
from agent.ingest.redact.seeds import seed_after

Found = tuple[int, int, str]


def _alternation(words: tuple[str, ...]) -> str:
    """One regex alternative for each label, longest first; labels in scripts that put
    spaces between words must stand as whole words ("pin", not "spinning")."""
    latin: list[str] = []
    other: list[str] = []
    for word in sorted(set(words), key=len, reverse=True):
        body = r"[\s\-]+".join(re.escape(piece) for piece in re.split(r"[\s\-]+", word))
        (latin if _spaced_script(word) else other).append(body)
    alternatives = []
    if latin:
        alternatives.append(rf"(?<!\w)(?:{'|'.join(latin)})s?(?!\w)")  # or a plural
    if other:  # Chinese has no spaces: 我的密码是 holds 密码 with word characters around it
        alternatives.append(rf"(?:{'|'.join(other)})")
    return "(?:" + "|".join(alternatives) + ")"


def _spaced_script(label: str) -> bool:
    return all(ord(ch) < 0x2E80 for ch in label)


_IS = (
    r"(?:(?:"
    + "|".join(re.escape(w) for w in labels.IS if _spaced_script(w))
    + r")(?!\w)|"
    + "|".join(re.escape(w) for w in labels.IS if not _spaced_script(w))
    + ")"
)
_FOR = "(?:" + "|".join(re.escape(w) for w in labels.FOR) + ")"
# "for the office wifi", "für das WLAN": up to 40 characters of one clause.
_FOR_CLAUSE = rf"(?:\s*{_FOR}\s+[^\n.:;!?=\"]{{1,40}}?)?"
# The sign or word that joins a label to its value.
_JOINED_BY = rf"\s*(?P<join>{_IS}\s*[:：]?|[:=：#]|=>)"
_ADVERB = r"\s*(?:(?:now|still|just|simply|literally)\s+)?"
_JOIN = rf"(?:{_JOINED_BY})?{_ADVERB}"
_MUST_JOIN = rf"{_JOINED_BY}{_ADVERB}"
_QUOTED = r"[\"'“‘«](?P<quoted>[^\"'”’»\n]{1,200})[\"'”’»]"
_BARE = r"(?P<bare>[^\s，。；、！？,;]{1,200})"

_PASSWORD = re.compile(
    rf"(?i){_alternation(labels.PASSWORD)}{_FOR_CLAUSE}{_MUST_JOIN}(?:{_QUOTED}|{_BARE})"
)
# Without "is" or ":" ("password hunter2"), the next word is the value only when it holds a
# digit, as a credential typed into a note does and a word of the sentence does not.
_PASSWORD_UNJOINED = re.compile(
    rf"(?i){_alternation(labels.PASSWORD)}\s+(?P<bare>(?=[^\s，。；、！？,;]*\d)"
    r"[^\s，。；、！？,;]{4,200})"
)
_PIN = re.compile(
    rf"(?i)(?P<label>{_alternation(labels.PIN)}){_FOR_CLAUSE}"
    rf"(?:\s*(?:number|code|nummer))?{_JOIN}"
    # 4821, 4 8 2 1, 48-21, or 4,821 as speech recognition writes a number.
    r"(?P<secret>\d{1,3}(?:,\d{3}){1,2}(?![\d,])|\d(?:[ \-]?\d){2,7}(?![\d\-]))"
)
_API_KEY = re.compile(
    rf"(?i){_alternation(labels.API_KEY)}{_FOR_CLAUSE}{_JOIN}"
    r"[\"'“]?(?P<secret>(?=[^\s\"']*\d)[A-Za-z0-9_\-./+=:]{8,400})"
)
_PASSPORT = re.compile(
    rf"(?i){_alternation(labels.PASSPORT)}"
    r"(?:\s*(?:no\.?|number|num\.?|nr\.?|n°|#|nummer|numéro|número|号码|号))?"
    rf"{_JOIN}(?P<secret>(?=[A-Z0-9]*\d)[A-Z0-9]{{6,10}})(?![A-Za-z0-9])"
)
_SSN_VALUE = r"(?!000|666|9\d\d)\d{3}(?P<sep>[ \-]?)(?!00)\d{2}(?P=sep)(?!0000)\d{4}"
_SSN_LABELLED = re.compile(
    rf"(?i){_alternation(labels.SSN)}{_JOIN}(?P<secret>{_SSN_VALUE})(?![\d\-])"
)
SSN = re.compile(r"(?<![\d\-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\d\-])")
_RECOVERY = re.compile(rf"(?i){_alternation(labels.RECOVERY_CODES)}{_JOIN}")
_CODE = re.compile(
    r"[\s,;]*(?:\d{1,2}[.)]\s+)?(?P<code>(?=[A-Za-z0-9\-]*\d)[A-Za-z0-9]{4,12}(?:-[A-Za-z0-9]{3,12}){0,3})"
    r"(?![\w\-])"
)
# GitHub's recovery codes as they are downloaded: a list of xxxxx-xxxxx, no label.
CODE_LIST = re.compile(r"(?<![\w\-])(?:[0-9a-f]{5}-[0-9a-f]{5}(?:[\s,]+|$)){4,}")
_SEED = re.compile(rf"(?i){_alternation(labels.SEED_PHRASE)}{_JOIN}")
CARD_LABEL = re.compile(rf"(?i){_alternation(labels.CARD)}")

# NAME = value, NAME: value, "name": "value", --name=value.
_ASSIGNMENT = re.compile(
    r"(?<![\w.])-{0,2}[\"']?(?P<key>[A-Za-z_][A-Za-z0-9_.\-]*)[\"']?"
    r"\s*(?P<join>:=|=>|=|:)\s*"
    r"(?:\"(?P<dq>[^\"\n]{1,400})\"|'(?P<sq>[^'\n]{1,400})'|(?P<bare>[^\s\"',;&)}\]]{1,400}))"
)
_TO_SPACE = re.compile(r"[^\s\"',;)}\]]*")
_SECRET_NAMES = frozenset(
    [
        "password",
        "passwd",
        "pwd",
        "pass",
        "passphrase",
        "passcode",
        "secret",
        "token",
        "apikey",
        "credential",
        "credentials",
        "pat",
    ]
)
_SECRET_PAIRS = frozenset(
    tuple(pair.split())
    for pair in (
        "api key",
        "access key",
        "secret key",
        "private key",
        "auth key",
        "master key",
        "account key",
        "encryption key",
        "signing key",
        "client secret",
        "app key",
        "key base",
    )
)
_PLACEHOLDER = re.compile(
    r"^(?:\$|\{\{|<|%\(|\[|\*+$|•+$|x{3,}$|\.\.\.|(?:none|null|nil|true|false|undefined)$)"
    r"|your|example|placeholder|(?:^|\.)environ|getenv|^process\.env|^env\.|^secrets\.",
    re.IGNORECASE,
)


def secret_name(key: str) -> bool:
    """Does a setting's name end in a secret's name (DB_PASSWORD, apiKey, client-secret)?"""
    parts = [p.lower() for p in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+", key)]
    return bool(parts) and (parts[-1] in _SECRET_NAMES or tuple(parts[-2:]) in _SECRET_PAIRS)


def _masked(value: str) -> bool:
    return bool(re.fullmatch(r"[*•●x.\-]+", value, re.IGNORECASE))


def _prose(text: str, match: re.Match[str], value: str) -> bool:
    """A word of a sentence rather than a value: "Password: click the link below"."""
    if not re.fullmatch(r"[a-zäöüéèàçñ]+", value):
        return False
    if value in labels.NOT_A_VALUE:
        return True
    after = text[match.end() : match.end() + 30]
    return match.group("join") in (":", "：") and re.match(r"\s+[a-z]+\b", after) is not None


def _value(text: str, match: re.Match[str]) -> tuple[int, int] | None:
    """Span of a quoted or bare value, without a closing bracket or quote after it, unless
    it is no value (a placeholder, a masked field, a word of the sentence). A password may
    end in punctuation ("Sommer2024!"); a full stop taken with it costs the sentence
    nothing."""
    group = "quoted" if match.groupdict().get("quoted") is not None else "bare"
    start, end = match.span(group)
    if group == "bare":
        while end > start and text[end - 1] in ")]}\"'”’»":
            end -= 1
    value = text[start:end]
    if not value or _masked(value) or _PLACEHOLDER.search(value) or _prose(text, match, value):
        return None
    return start, end


# A passphrase of words after "password:" runs to the end of its clause, if it is short.
_PHRASE = re.compile(r"[^\n.!?;。！？；]+")
PHRASE_MAX_WORDS = 8


def _passphrase(text: str, match: re.Match[str]) -> tuple[int, int] | None:
    """The words after a password label and a colon ("wifi password: correct horse battery
    staple"), read as prose by `_value`: redacted to the end of their clause when that is at
    most PHRASE_MAX_WORDS words. Which words are an instruction ("click the link below") no
    rule can say in every language, and a passphrase kept would be the worse mistake."""
    if match.group("join") not in (":", "：") or match.group("bare") is None:
        return None
    start = match.start("bare")
    if _PLACEHOLDER.search(match.group("bare")):
        return None
    clause = _PHRASE.match(text, start)
    if clause is None or len(clause.group().split()) > PHRASE_MAX_WORDS:
        return None
    return start, start + len(clause.group().rstrip())


def passwords(text: str) -> Iterator[Found]:
    for pattern in (_PASSWORD, _PASSWORD_UNJOINED):
        for match in _innermost(pattern, text):
            span = _value(text, match) or _passphrase(text, match)
            if span:
                yield (*span, "password")


def _innermost(pattern: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    """The pattern's matches, where a match's value is itself a label that the pattern
    matches from there ("wifi password for the flat: password: Kiwi-7731") left for that
    later match: taken as a value, the second label would hide the secret after it."""
    at = 0
    while (match := pattern.search(text, at)) is not None:
        value = match.start("quoted" if match.groupdict().get("quoted") is not None else "bare")
        if pattern.match(text, value) is not None:
            at = value
            continue
        yield match
        at = max(match.end(), match.start() + 1)


def pins(text: str) -> Iterator[Found]:
    for match in _PIN.finditer(text):
        digits = re.sub(r"\D", "", match.group("secret"))
        joined = match.group("join") is not None
        bare_pin = not joined and match.group("label").lower() == "pin"
        if "," in match.group("secret") and not joined:
            continue  # "pin 3,000 people": a number in a sentence, not a PIN said
        if len(digits) >= (4 if bare_pin else 3):
            yield (*match.span("secret"), "pin")


def api_keys(text: str) -> Iterator[Found]:
    for match in _API_KEY.finditer(text):
        secret = match.group("secret").rstrip(".:")
        if not _PLACEHOLDER.search(secret):
            yield match.start("secret"), match.start("secret") + len(secret), "api key"


def passports(text: str) -> Iterator[Found]:
    for match in _PASSPORT.finditer(text):
        yield (*match.span("secret"), "passport number")


def ssns(text: str) -> Iterator[Found]:
    for match in _SSN_LABELLED.finditer(text):
        yield (*match.span("secret"), "ssn")
    for match in SSN.finditer(text):
        yield (*match.span(), "ssn")


def recovery_codes(text: str) -> Iterator[Found]:
    for match in _RECOVERY.finditer(text):
        pos, first, last = match.end(), -1, -1
        while (code := _CODE.match(text, pos)) is not None:
            first = code.start("code") if first < 0 else first
            last = pos = code.end()
        if first >= 0:
            yield first, last, "recovery codes"
    for match in CODE_LIST.finditer(text):
        yield match.start(), len(match.group().rstrip()) + match.start(), "recovery codes"


def seed_phrases(text: str) -> Iterator[Found]:
    for match in _SEED.finditer(text):
        span = seed_after(text, match.end())
        if span:
            yield (*span, "seed phrase")


def assignments(text: str) -> Iterator[Found]:
    for match in _ASSIGNMENT.finditer(text):
        if not secret_name(match.group("key")):
            continue
        group = next(g for g in ("dq", "sq", "bare") if match.group(g) is not None)
        start, end = match.span(group)
        value = match.group(group)
        if group == "bare":
            # "&" ends a value in a URL's query (?token=abc&page=2), not after a label.
            in_query = match.start() > 0 and text[match.start() - 1] in "?&"
            if text[end : end + 1] == "&" and not in_query:
                end = _TO_SPACE.match(text, end).end()  # type: ignore[union-attr]
                value = text[start:end]
            # A secret may end in "!" or "?"; a full stop or colon after it is the sentence's.
            trimmed = value.rstrip(".:")
            end -= len(value) - len(trimmed)
            value = trimmed
        if len(value) < 3 or _masked(value) or _PLACEHOLDER.search(value):
            continue
        if group == "bare" and _code(text, end, value, match.group(0), match.group("key")):
            continue
        if group == "bare" and match.group("join") == ":" and _prose_after(text, end, value):
            continue
        yield start, end, "password" if "pass" in match.group("key").lower() else "secret"


_TYPE_NAMES = frozenset(
    [
        "lambda",
        "str",
        "int",
        "bytes",
        "bool",
        "float",
        "dict",
        "list",
        "tuple",
        "set",
        "string",
        "number",
        "boolean",
        "any",
        "object",
        "callable",
        "optional",
        "none",
        "self",
        "cls",
        "new",
        "await",
        "async",
        "function",
        "fn",
    ]
)


def _code(text: str, end: int, value: str, whole: str, key: str) -> bool:
    """A bare value that is source code, not a secret: a type (secret: str), a call
    (token = store.add(...)), a variable or attribute (on_token=tokens.append, {"token":
    piece}: a JSON string would be quoted) or a lambda. Settings named in capitals
    (DB_PASSWORD=hunter) are settings, not code."""
    if value.lower() in _TYPE_NAMES or any(ch in value for ch in "([{"):
        return True
    identifier = re.fullmatch(r"[A-Za-z_][A-Za-z_]*(?:\.[A-Za-z_]\w*)*", value) is not None
    if identifier and text[end : end + 1] in ("(", "["):
        return True
    quoted_key = whole.lstrip("-")[:1] in ("'", '"')
    return identifier and (quoted_key or not key.isupper())


def _prose_after(text: str, end: int, value: str) -> bool:
    return bool(re.fullmatch(r"[a-z]+", value)) and (
        value in labels.NOT_A_VALUE or re.match(r"\s+[a-z]+\b", text[end : end + 30]) is not None
    )


RULES = (assignments, passwords, pins, api_keys, passports, ssns, recovery_codes, seed_phrases)
