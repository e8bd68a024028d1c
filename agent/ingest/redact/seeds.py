"""Wallet seed phrases (BIP-39): 12 to 24 words from a list of 2,048.

The list comes from the `mnemonic` package (pinned in pyproject.toml), read as a file and
checked against its sha256, never imported. Anywhere in a text, a run of exactly 12, 15, 18,
21 or 24 listed words whose last bits are the right checksum is a seed: ordinary sentences
break such runs with words the list lacks ("the", "and", "is"), and the checksum turns away
15 of 16 runs that remain. After a seed label (agent/ingest/redact/labels.py) 12 or more words,
three quarters of them listed, are a seed, checksum or not: one misheard or misread word
breaks a checksum (a plural counts as its word, as speech recognition adds an "s").
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import logging
import re
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)

WORDLIST_PACKAGE = "mnemonic==0.21"
WORDLIST_SHA256 = "2f5eed53a4727b4bf8880d8f3f199efc90e58503646d9ff8eff3a2ed3b24dbda"
SEED_LENGTHS = (12, 15, 18, 21, 24)
LABELLED_MIN_WORDS = 12
LABELLED_LISTED_SHARE = 0.75

_WORD = re.compile(r"[A-Za-z]+")
# Between two words of a seed: spaces, commas, line breaks, and a number ("1." "2)") or two.
_GAP = re.compile(r"[\s,;]*(?:\d{1,2}[.):]?[\s,;]*)?")
# After a label: "is", ":", then the words, perhaps numbered and on several lines.
_LABELLED_GAP = re.compile(r"[\s,;.:\-]*(?:\d{1,2}[.):]?[\s,;.:\-]*)?")


@functools.cache
def wordlist() -> dict[str, int] | None:
    """Each BIP-39 English word and its index; None (and a warning) without the package."""
    spec = importlib.util.find_spec("mnemonic")
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        path = Path(folder) / "wordlist" / "english.txt"
        if path.is_file():
            data = path.read_bytes()
            if hashlib.sha256(data).hexdigest() != WORDLIST_SHA256:
                log.warning("the BIP-39 word list in %s does not match its sha256", path)
                return None
            return {word: i for i, word in enumerate(data.decode().split())}
    log.warning(
        "the BIP-39 word list is missing (pip install %s): seed phrases are found only "
        "after a label",
        WORDLIST_PACKAGE,
    )
    return None


def checksum_ok(words: list[str], index: dict[str, int]) -> bool:
    """The last bits of the words' indices are the start of the SHA-256 of the rest."""
    if len(words) not in SEED_LENGTHS or any(w not in index for w in words):
        return False
    bits = "".join(f"{index[w]:011b}" for w in words)
    entropy_bits = len(bits) * 32 // 33
    payload = int(bits[:entropy_bits], 2).to_bytes(entropy_bits // 8, "big")
    digest = hashlib.sha256(payload).digest()
    expected = f"{int.from_bytes(digest, 'big'):0256b}"[: len(bits) - entropy_bits]
    return bits[entropy_bits:] == expected


def _words_from(text: str, pos: int, gap: re.Pattern[str]) -> Iterator[re.Match[str]]:
    """Words one after another from `pos`, joined by what `gap` allows."""
    while True:
        between = gap.match(text, pos)
        assert between is not None  # every gap pattern matches the empty string
        word = _WORD.match(text, between.end())
        if word is None:
            return
        yield word
        pos = word.end()


def seed_after(text: str, pos: int) -> tuple[int, int] | None:
    """(start, end) of the seed's words right after a label ending at `pos`, if there is one."""
    index = wordlist()
    words = []
    for word in _words_from(text, pos, _LABELLED_GAP):
        if not 3 <= len(word.group()) <= 8:
            break
        words.append(word)
        if len(words) == max(SEED_LENGTHS):
            break
    if len(words) < LABELLED_MIN_WORDS:
        return None
    if index is not None:
        listed = sum(_listed(w.group().lower(), index) for w in words)
        if listed < LABELLED_LISTED_SHARE * len(words):
            return None
    elif not all(w.group().islower() for w in words[1:]):
        return None
    return words[0].start(), words[-1].end()


def _listed(word: str, index: dict[str, int]) -> bool:
    """In the list, or its plural is: speech recognition hears "odors" for "odor"."""
    return word in index or (word.endswith("s") and word[:-1] in index)


def seed_runs(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each unlabelled seed: a run of listed words of a seed's length whose
    checksum holds."""
    index = wordlist()
    if index is None:
        return
    run: list[re.Match[str]] = []

    def finish() -> Iterator[tuple[int, int]]:
        if checksum_ok([w.group().lower() for w in run], index):
            yield run[0].start(), run[-1].end()

    for word in _WORD.finditer(text):
        joined = bool(run) and _GAP.fullmatch(text, run[-1].end(), word.start()) is not None
        if word.group().lower() in index and (joined or not run):
            run.append(word)
            continue
        yield from finish()
        run = [word] if word.group().lower() in index else []
    yield from finish()
