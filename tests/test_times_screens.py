"""A screenshot OCR found no words in names no time: it is marked read without a model call
(its text is papertape's placeholder, which the model would read as a screen's words)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from agent.memory.times import TIME_MARK, TimeReader
from models.fake_generator import ScriptedGenerator
from tests.conftest import NOW
from tests.facts_support import make_app


def test_a_screen_without_words_is_marked_read_unasked(tmp_path: Path) -> None:
    app = make_app(tmp_path / "home", time_words="auto")
    blank = tmp_path / "blank.png"
    Image.new("RGB", (400, 200), "white").save(blank)
    (screen,) = app.ingest([blank], now=NOW)
    note = app.note("We met Ana yesterday at the harbour.", now=NOW)
    assert screen.memory_id is not None
    assert note.memory_id is not None
    generator = app.generator()
    assert isinstance(generator, ScriptedGenerator)
    generator.replies.append('{"words": "", "unit": "none", "offset": 0}')
    read, _ = TimeReader(app.store, generator).read_new()
    assert read == 2
    assert app.store.marked(TIME_MARK) == {screen.memory_id, note.memory_id}
    placeholder = app.store.get(screen.memory_id).text  # type: ignore[union-attr]
    assert len(generator.prompts) == 1  # the note's; none for the screen
    assert placeholder not in generator.prompts[0]
    app.close()
