"""Text ingest against a real store: good input, duplicates, and every bad input of issue 2."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from agent.errors import UserError
from agent.service import Papertape
from agent.settings import load_settings
from models.fake_embedder import FakeEmbedder
from tests.conftest import NOW


def snapshot(app: Papertape) -> tuple[int, str]:
    return app.store.count(), app.store.integrity_check()


def test_note_is_stored_and_duplicates_return_the_existing_id(app: Papertape) -> None:
    first = app.note("Parking is on level 3, spot 42", now=NOW)
    again = app.note("  Parking is on level 3, spot 42\n", now=NOW + 5)
    assert first.status == "stored"
    assert again.status == "duplicate"
    assert again.memory_id == first.memory_id
    assert app.store.count() == 1
    stored = app.store.get(first.memory_id or 0)
    assert stored is not None
    assert stored.ingested_at == NOW
    assert stored.occurred_at == NOW


def test_note_at_sets_occurred_at(app: Papertape) -> None:
    result = app.note("met Sam", now=NOW, occurred_at=NOW - 86400)
    assert app.store.get(result.memory_id or 0).occurred_at == NOW - 86400  # type: ignore[union-attr]


def test_empty_note_is_refused(app: Papertape) -> None:
    with pytest.raises(UserError, match="empty"):
        app.note(" \n ", now=NOW)
    assert app.store.count() == 0


def test_folder_of_text_files(app: Papertape, tmp_path: Path) -> None:
    folder = tmp_path / "notes"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.md").write_text("# Groceries\nmilk, eggs")
    (folder / "sub" / "b.txt").write_text("call the plumber")
    (folder / ".hidden.txt").write_text("skipped")
    results = app.ingest([folder], now=NOW)
    assert sorted(r.status for r in results) == ["stored", "stored"]
    assert app.store.count() == 2
    again = app.ingest([folder], now=NOW)
    assert [r.status for r in again] == ["duplicate", "duplicate"]
    assert app.store.count() == 2


def test_occurred_at_defaults_to_file_time(app: Papertape, tmp_path: Path) -> None:
    path = tmp_path / "old.txt"
    path.write_text("an old note")
    import os

    os.utime(path, (1_500_000_000, 1_500_000_000))
    result = app.ingest([path], now=NOW)[0]
    assert app.store.get(result.memory_id or 0).occurred_at == 1_500_000_000  # type: ignore[union-attr]


def test_long_document_is_split_into_linked_passages(app: Papertape, tmp_path: Path) -> None:
    path = tmp_path / "trip.md"
    body = "\n\n".join(f"Day {i}: we walked to place number {i} and ate." * 8 for i in range(12))
    path.write_text("# Lisbon trip\n\n" + body)
    result = app.ingest([path], now=NOW)[0]
    doc = app.store.get(result.memory_id or 0)
    assert doc is not None
    assert doc.kind == "document"
    assert doc.text == "Lisbon trip"
    parts = app.store.links_to(doc.id)
    assert len(parts) == result.passages > 1
    assert [link.position for link in parts] == list(range(len(parts)))
    texts = [app.store.get(link.from_id).text for link in parts]  # type: ignore[union-attr]
    assert all(len(t) <= app.settings.passage_chars for t in texts)
    assert " ".join(" ".join(texts).split()) == " ".join(("# Lisbon trip\n\n" + body).split())


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("binary.txt", b"\x00\x01\x02binary\x00", "binary"),
        ("latin1.txt", "café crème".encode("latin-1"), "not UTF-8"),
        ("empty.txt", b"   \n", "empty"),
        ("picture.txt", b"\x89PNG\r\n\x1a\n....", "not a readable image"),  # sniffed, not named
        ("anim.gif", b"GIF89a....", "a GIF image, which papertape does not read"),
    ],
)
def test_bad_files_are_rejected_with_a_reason(
    app: Papertape, tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    before = snapshot(app)
    (result,) = app.ingest([path], now=NOW)
    assert result.status == "rejected"
    assert reason in result.reason
    assert snapshot(app) == before == (0, "ok")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
def test_text_whose_byte_order_mark_names_its_encoding_is_read(
    app: Papertape, tmp_path: Path, encoding: str
) -> None:
    path = tmp_path / "notes.txt"
    text = "Zahnarzt am Donnerstag, 14 Uhr. 牙医周四。"
    mark = {"utf-16-be": codecs.BOM_UTF16_BE}.get(encoding, b"")
    path.write_bytes(mark + text.encode(encoding))
    (result,) = app.ingest([path], now=NOW)
    assert result.status == "stored"
    assert app.store.get(result.memory_id).text == text  # type: ignore[arg-type,union-attr]


def test_a_50_mb_text_file_is_refused_before_it_is_read(app: Papertape, tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    line = b"a perfectly ordinary line of text, repeated many times over\n"
    with path.open("wb") as handle:
        for _ in range(50_000_000 // len(line) + 1):
            handle.write(line)
    (result,) = app.ingest([path], now=NOW)
    assert result.status == "rejected"
    assert "50.0 MB" in result.reason
    assert "max_file_mb" in result.reason
    assert snapshot(app) == (0, "ok")


def test_missing_path_and_folder_without_text(app: Papertape, tmp_path: Path) -> None:
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "a.bin").write_bytes(b"\x00" * 10)
    results = app.ingest([tmp_path / "nope", tmp_path / "media"], now=NOW)
    reasons = {r.label: r.reason for r in results}
    assert reasons[str(tmp_path / "nope")] == "does not exist"
    assert reasons[str(tmp_path / "media")] == "holds no readable text files"
    assert app.store.count() == 0


def test_folder_with_one_bad_file_stores_the_good_ones(app: Papertape, tmp_path: Path) -> None:
    (tmp_path / "good1.txt").write_text("first good note")
    (tmp_path / "bad.txt").write_bytes(b"\xff\xfe\x00\x00")
    (tmp_path / "good2.txt").write_text("second good note")
    results = app.ingest([tmp_path], now=NOW)
    assert sorted(r.status for r in results) == ["rejected", "stored", "stored"]
    assert app.store.count() == 2


def test_an_embedder_failure_writes_nothing(
    app: Papertape, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a.txt").write_text("some text")

    def broken(texts: object) -> None:
        raise RuntimeError("runtime crashed")

    monkeypatch.setattr(app.embedder, "embed", broken)
    with pytest.raises(RuntimeError):
        app.ingest([tmp_path / "a.txt"], now=NOW)
    assert snapshot(app) == (0, "ok")


def test_a_folder_holding_the_home_does_not_ingest_the_store(
    app: Papertape, tmp_path: Path
) -> None:
    app.note("already here", now=NOW)  # creates the store inside tmp_path/home
    (tmp_path / "real.txt").write_text("a real note")
    results = app.ingest([tmp_path], now=NOW)
    assert [(Path(r.label).name, r.status) for r in results] == [("real.txt", "stored")]


def test_many_notes_in_one_call(app: Papertape) -> None:
    from agent.ingest.notes import NoteInput

    results = app.note_many(
        [NoteInput("alpha note", NOW - 10, "chat:1"), NoteInput("  ", NOW), NoteInput("beta", NOW)],
        now=NOW,
    )
    assert sorted(r.status for r in results) == ["rejected", "stored", "stored"]
    stored = {
        memory.text: memory
        for r in results
        if r.memory_id and (memory := app.store.get(r.memory_id)) is not None
    }
    assert stored["alpha note"].source == "chat:1"
    assert stored["alpha note"].occurred_at == NOW - 10


def test_results_follow_input_order_with_duplicates_and_rejections(
    app: Papertape, tmp_path: Path
) -> None:
    from agent.ingest.notes import NoteInput

    app.note("known before", now=NOW)
    batch = ["first new", "known before", " ", "second new", "first new"]
    results = app.note_many([NoteInput(t, NOW, f"n{i}") for i, t in enumerate(batch)], now=NOW)
    assert [r.label for r in results] == ["n0", "n1", "n2", "n3", "n4"]
    assert [r.status for r in results] == ["stored", "duplicate", "rejected", "stored", "duplicate"]
    assert results[4].memory_id == results[0].memory_id
    for text, result in zip(batch, results, strict=True):
        if result.memory_id is not None:
            assert app.store.get(result.memory_id).text == text.strip()  # type: ignore[union-attr]

    for name, content in [("a.txt", b"alpha"), ("b.txt", b"\x00bin"), ("c.txt", b"known before")]:
        (tmp_path / "in").mkdir(exist_ok=True)
        (tmp_path / "in" / name).write_bytes(content)
    labels = [(Path(r.label).name, r.status) for r in app.ingest([tmp_path / "in"], now=NOW)]
    assert labels == [("a.txt", "stored"), ("b.txt", "rejected"), ("c.txt", "duplicate")]


def test_a_long_note_shows_its_passages_embedded_as_it_goes(tmp_path: Path) -> None:
    overrides = {"embedder": "fake", "passage_chars": 100}
    settings = load_settings(tmp_path / "home", overrides=overrides)
    steps: list[tuple[int, int, str]] = []
    sentence = "The boiler in the cellar was serviced and the pressure set to one point five bar. "
    with Papertape(settings, embedder=FakeEmbedder()) as app:
        result = app.note(
            sentence * 400,
            now=NOW,
            progress=lambda done, total, label: steps.append((done, total, label)),
        )
        assert result.status == "stored"
    embedded = [(done, total) for done, total, label in steps if label == "passages embedded"]
    assert len(embedded) >= 2  # more than one group of passages: a step before each
    assert embedded[0][0] == 0
    assert all(total == embedded[0][1] > 256 for _, total in embedded)
    assert steps[-1][:2] == (1, 1)  # then the note itself, stored
