"""Secrets never reach the store: what is found, what is left alone, and the ingest path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.ingest.redact import entropy, iban_ok, luhn_ok, redact, redact_parts
from agent.ingest.redact.labelled import secret_name
from agent.ingest.redact.seeds import WORDLIST_SHA256, checksum_ok, wordlist
from agent.service import Papertape
from tests.conftest import NOW

SECRETS = {
    "aws key": "AKIAIOSFODNN7EXAMPLE",
    "github token": "ghp_" + "a1B2c3D4e5" * 4,
    "openai key": "sk-proj-" + "Zx9Yw8Vu7T" * 3,
    "anthropic key": "sk-ant-api03-" + "q1W2e3R4t5" * 3,
    "slack token": "xoxb-1234567890-abcdefghij",
    "google key": "AIza" + "SyD3fG5hJ7kL9zX1cV3bN5mQ7wE9rT1yU3i",
    "stripe key": "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc",
    "token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36P",
    "card number": "4111 1111 1111 1111",
    "secret": "Q2x5d2Fm9Tz8Rk3Lp6Vb1Nc4Hj7Gs0De5Wq",
}


@pytest.mark.parametrize(("kind", "secret"), sorted(SECRETS.items()))
def test_each_kind_is_found_and_replaced(kind: str, secret: str) -> None:
    result = redact(f"here it is: {secret} -- keep it safe")
    assert secret not in result.text
    assert f"[redacted {kind}]" in result.text
    assert result.counts == {kind: 1}
    assert result.text.startswith("here it is: ")
    assert result.text.endswith(" -- keep it safe")


def test_passwords_and_private_keys() -> None:
    text = (
        "wifi password: correct-horse-9\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n"
        "-----END OPENSSH PRIVATE KEY-----\nbye"
    )
    result = redact(text)
    assert "correct-horse-9" not in result.text
    assert "b3Blbn" not in result.text
    assert result.counts == {"password": 1, "private key": 1}
    assert result.text.endswith("bye")


def test_ordinary_text_is_left_alone() -> None:
    text = (
        "Dentist at 10am on 2024-03-01, order 123456789012, phone 555-123-4567, commit "
        "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0, card 4111 1111 1111 1112 (fails Luhn), "
        "the word password alone, https://example.org/a/very/long/path/that/is/not/secret"
    )
    assert redact(text).text == text


CORPUS = json.loads((Path(__file__).parent / "data/redaction_corpus.json").read_text())


def test_the_corpus_is_large_enough() -> None:
    assert len(CORPUS["secrets"]) >= 40
    assert len(CORPUS["lookalikes"]) >= 40
    assert len({e["format"] for e in CORPUS["secrets"]}) == len(CORPUS["secrets"])


@pytest.mark.parametrize("entry", CORPUS["secrets"], ids=lambda e: e["format"])
def test_every_corpus_secret_is_redacted(entry: dict[str, object]) -> None:
    result = redact(str(entry["text"]))
    left = [s for s in entry["secrets"] if s in result.text]  # type: ignore[attr-defined]
    assert not left, result.text
    assert result.total >= 1
    assert "[redacted " in result.text


@pytest.mark.parametrize("entry", CORPUS["lookalikes"], ids=lambda e: e["format"])
def test_every_corpus_lookalike_is_kept(entry: dict[str, object]) -> None:
    result = redact(str(entry["text"]))
    if "redacted_on_purpose" in entry:  # a cost chosen and counted (docs/BENCHMARKS.md)
        assert result.total == 1
        return
    assert (result.text, result.total) == (entry["text"], 0)


def test_a_passphrase_is_cut_at_its_clause_and_a_long_instruction_kept() -> None:
    said = redact("router password: purple monkey dishwasher. Ask Sam for the guest one.")
    assert said.text == "router password: [redacted password]. Ask Sam for the guest one."
    long = "Password: you will get an email with a link to set it up within a day"
    assert redact(long).text == long
    query = "https://example.com/list?token=9f8e7d6c5b4a&page=2"
    assert redact(query).text.endswith("&page=2")


def test_what_the_audit_found_in_clear_is_redacted() -> None:
    # The sixteen formats issue 31 found stored in clear, as the audit wrote them.
    said = {
        "glpat-x7Rk2mP9qL4vT8nW3yZ6": "glpat-x7Rk2mP9qL4vT8nW3yZ6",
        "postgres://app:Wint3rIsComing@db:5432/app": "Wint3rIsComing",
        "mongodb://root:m0ngoPass@10.1.1.5/admin": "m0ngoPass",
        "redis://:r3disPass@cache:6379": "r3disPass",
        "DB_PASSWORD=Hunter2Hunter2": "Hunter2Hunter2",
        "the password for the NAS is quartz-otter-17": "quartz-otter-17",
        "my PIN is 4821": "4821",
        "Card PIN is 8842": "8842",
        "IBAN GB82 WEST 1234 5698 7654 32": "GB82 WEST 1234 5698 7654 32",
        "SSN 219-09-9999": "219-09-9999",
        "passport number X12345678": "X12345678",
        "2FA recovery codes: 9d8f7-a6b5c 1e2d3-c4b5a": "9d8f7-a6b5c",
        "key-8d0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b": "key-8d0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b",
        "Authorization: Basic dXNlcjpwYXNzd29yZA==": "dXNlcjpwYXNzd29yZA==",
    }
    for text, secret in said.items():
        assert secret not in redact(text).text, text


def test_ibans_need_their_checksum_and_their_countrys_length() -> None:
    assert iban_ok("GB82WEST12345698765432")
    assert iban_ok("DE91500105175407324958")
    assert not iban_ok("GB82WEST12345698765433")  # one digit off
    assert not iban_ok("DE9150010517540732495")  # a German IBAN is 22 long
    assert redact("DE91 5001 0517 5407 3249 58 BANK").text == "[redacted iban] BANK"


def test_cards_need_a_cards_prefix_and_grouping_or_label() -> None:
    number = "4539899720743225"  # Luhn-valid, Visa's prefix
    assert redact(f"order {number}").total == 0
    assert redact(f"visa {number}").counts == {"card number": 1}
    assert redact("4539 8997 2074 3225").counts == {"card number": 1}
    assert redact("7730 8940 2380 1267").total == 0  # Luhn-valid, no card starts with 77


def test_seed_phrases_by_checksum_or_by_label() -> None:
    words = wordlist()
    assert words is not None, f"mnemonic package (sha256 {WORDLIST_SHA256})"
    assert len(words) == 2048, f"mnemonic package (sha256 {WORDLIST_SHA256})"
    seed = [
        "coffee",
        "odor",
        "squirrel",
        "post",
        "fossil",
        "assault",
        "embrace",
        "nut",
        "anger",
        "reason",
        "valid",
        "eagle",
    ]
    assert checksum_ok(seed, words)
    assert not checksum_ok([*seed[:-1], "easy"], words)
    assert redact(" ".join(seed)).counts == {"seed phrase": 1}
    misheard = " ".join([*seed[:-1], "easy"])  # the checksum fails: only a label tells
    assert redact(misheard).total == 0
    assert redact(f"My recovery phrase is {misheard}.").counts == {"seed phrase": 1}


def test_settings_named_like_secrets() -> None:
    for name in ("DB_PASSWORD", "apiKey", "client-secret", "AWS_SECRET_ACCESS_KEY", "pass"):
        assert secret_name(name), name
    for name in ("password_min_length", "max_tokens", "tokenizer", "LED_PIN", "primary_key"):
        assert not secret_name(name), name


def test_code_is_not_a_secret() -> None:
    for line in (
        "def ask(self, question: str, *, on_token: OnToken | None = None) -> Answer:",
        'on_token=lambda piece: send({"token": piece}),',
        "secret = store.add(new(text), vector)",
        'pad_token="[PAD]"',
    ):
        assert redact(line).total == 0, line


def test_redacting_twice_changes_nothing() -> None:
    once = redact("password: hunter2 and ghp_" + "a1B2c3D4e5" * 4)
    twice = redact(once.text)
    assert once.total == 2
    assert (twice.text, twice.total) == (once.text, 0)


def test_labels_in_other_languages() -> None:
    for text, secret in (
        ("Das Passwort ist Sonne-2024", "Sonne-2024"),
        ("mot de passe : Lune&Soleil9", "Lune&Soleil9"),
        ("mi contraseña es Gato_Azul77", "Gato_Azul77"),
        ("密码：qwe789asd", "qwe789asd"),
        ("护照号码：E12345678", "E12345678"),
    ):
        assert secret not in redact(text).text, text


def test_parts_are_redacted_as_one_text() -> None:
    lines = [
        "keys:",
        "-----BEGIN OPENSSH PRIVATE KEY-----",
        "b3BlbnNzaC1rZXk",
        "QyNTUxOQ",
        "-----END OPENSSH PRIVATE KEY-----",
        "bye",
    ]
    parts = redact_parts(lines)
    assert [p.text for p in parts] == ["keys:", "[redacted private key]", "", "", "", "bye"]
    assert [p.total for p in parts] == [0, 1, 0, 0, 0, 0]
    assert parts[2].spans == ((0, len(lines[2])),)
    assert parts[5].spans == ()


def test_luhn_and_entropy() -> None:
    assert luhn_ok("4111111111111111")
    assert not luhn_ok("4111111111111112")
    assert entropy("aaaa") == 0.0
    assert entropy("abcd") == 2.0


def test_a_note_with_a_secret_is_stored_without_it(app: Papertape) -> None:
    key = SECRETS["aws key"]
    result = app.note(f"deploy with {key} tomorrow", now=NOW)
    assert result.redacted == 1
    memory = app.store.get(result.memory_id)  # type: ignore[arg-type]
    assert memory is not None
    assert key not in memory.text
    assert "[redacted aws key]" in memory.text
    app.store.checkpoint()
    assert key.encode() not in app.settings.store_path.read_bytes()


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Netflix: jan@example.com, password hunter2", "Netflix: jan@example.com, password "),
        ("wifi password Blue-Otter-77 for guests", "wifi password  for guests"),
        ("Passwort geheim99 für das WLAN", "Passwort  für das WLAN"),
    ],
)
def test_a_password_written_without_is_or_a_colon_is_redacted(text: str, kept: str) -> None:
    redacted = redact(text)
    assert redacted.counts == {"password": 1}
    assert redacted.text.replace("[redacted password]", "") == kept


@pytest.mark.parametrize(
    "text",
    [
        "Wifi password for the flat: password: Kiwi-Harbour-7731",
        "password: password: Kiwi-Harbour-7731",
        'passwords: "password: Kiwi-Harbour-7731"',
        "Passwort: Passwort: Kiwi-Harbour-7731",
    ],
)
def test_a_label_repeated_before_the_secret_is_not_taken_for_it(text: str) -> None:
    redacted = redact(text)
    assert "Kiwi" not in redacted.text
    assert redacted.counts == {"password": 1}


@pytest.mark.parametrize(
    "text",
    ["password reset link sent", "change the password 3 times", "the password manager 1Password"],
)
def test_words_after_password_without_a_digit_or_too_short_stay(text: str) -> None:
    assert redact(text).text == text


def test_note_names_the_kinds_it_redacted_never_the_secret(cli) -> None:
    said = f"wifi password is s3cr3t-Pa55, card {SECRETS['card number']}, and a plain note"
    result = cli("note", said)
    assert result.code == 0
    assert "2 secrets redacted (password, card number) before storing." in result.err
    data = json.loads(cli("note", "--json", "wifi password: hunter2-Xy9").out)
    assert (data["redacted"], data["redacted_kinds"]) == (1, ["password"])
    plain = json.loads(cli("note", "--json", "the bakery opens at seven").out)
    assert (plain["redacted"], plain["redacted_kinds"]) == (0, [])
    assert "s3cr3t" not in result.out + result.err


def test_ingest_reports_the_count_never_the_secret(cli, tmp_path: Path) -> None:
    doc = tmp_path / "creds.md"
    doc.write_text(f"prod: password = s3cr3t-Pa55\nbackup card {SECRETS['card number']}\n")
    result = cli("ingest", str(doc))
    assert result.code == 0
    assert "2 secrets redacted" in result.out
    assert "s3cr3t" not in result.out + result.err
    shown = cli("recall", "prod backup card", "--json")
    assert "s3cr3t" not in shown.out
    assert "4111" not in shown.out
