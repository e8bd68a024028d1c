"""Secrets never reach the store: what is found, what is left alone, and the ingest path."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.redact import entropy, luhn_ok, redact
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
    assert result.text.startswith("here it is: ") and result.text.endswith(" -- keep it safe")


def test_passwords_and_private_keys() -> None:
    text = (
        "wifi password: correct-horse-9\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n"
        "-----END OPENSSH PRIVATE KEY-----\nbye"
    )
    result = redact(text)
    assert "correct-horse-9" not in result.text and "b3Blbn" not in result.text
    assert result.counts == {"password": 1, "private key": 1}
    assert result.text.endswith("bye")


def test_ordinary_text_is_left_alone() -> None:
    text = (
        "Dentist at 10am on 2024-03-01, order 123456789012, phone 555-123-4567, commit "
        "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0, card 4111 1111 1111 1112 (fails Luhn), "
        "the word password alone, https://example.org/a/very/long/path/that/is/not/secret"
    )
    assert redact(text).text == text


def test_luhn_and_entropy() -> None:
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert entropy("aaaa") == 0.0 and entropy("abcd") == 2.0


def test_a_note_with_a_secret_is_stored_without_it(app: Papertape) -> None:
    key = SECRETS["aws key"]
    result = app.note(f"deploy with {key} tomorrow", now=NOW)
    assert result.redacted == 1
    memory = app.store.get(result.memory_id)  # type: ignore[arg-type]
    assert memory is not None and key not in memory.text and "[redacted aws key]" in memory.text
    app.store.checkpoint()
    assert key.encode() not in app.settings.store_path.read_bytes()


def test_ingest_reports_the_count_never_the_secret(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    doc = tmp_path / "creds.md"
    doc.write_text(f"prod: password = s3cr3t-Pa55\nbackup card {SECRETS['card number']}\n")
    result = cli("ingest", str(doc))
    assert result.code == 0 and "2 secrets redacted" in result.out
    assert "s3cr3t" not in result.out + result.err
    shown = cli("recall", "prod backup card", "--json")
    assert "s3cr3t" not in shown.out and "4111" not in shown.out
