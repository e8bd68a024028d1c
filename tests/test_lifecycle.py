"""Consolidation on a real store with an explicit clock: every tier transition."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from agent.memory.consolidation import Consolidator
from agent.memory.pages import render_page
from agent.memory.retention import DAY
from agent.memory.summaries import ExtractiveSummarizer
from agent.service import Papertape
from storage import Blob
from tests.conftest import NOW
from tests.lifecycle_support import ARCHIVED, HAZY, TRIP, YEARS, episode, make_app


@pytest.fixture
def tiers_app(home: Path) -> Iterator[Papertape]:
    with make_app(home) as app:
        yield app


def test_fading_memories_go_hazy_with_summary_page_and_int8_vectors_keeping_their_words(
    tiers_app: Papertape,
) -> None:
    ids = episode(tiers_app, NOW, TRIP)
    report = tiers_app.consolidate(now=NOW + HAZY)
    assert {(m.memory_id, m.before, m.after) for m in report.moves} == {
        (i, "sharp", "hazy") for i in ids
    }
    assert len(report.summaries) == 1
    summary = tiers_app.store.get(report.summaries[0])
    assert summary is not None
    assert summary.kind == "summary"
    assert summary.tier == "hazy"
    assert [link.to_id for link in tiers_app.store.links_from(summary.id)] == ids
    # One page an episode: the summary's, rendered from its text.
    page = tiers_app.store.blob(summary.id, "page")
    assert page is not None
    assert page.media_type == "image/png"
    assert page.data == render_page(summary.text).data
    for mid, text in zip(ids, TRIP, strict=True):
        memory = tiers_app.store.get(mid)
        assert memory is not None
        assert memory.tier == "hazy"
        assert memory.text == text  # time moves vectors down, not words
        assert memory.vector_bytes == 384 + 48  # int8 in the row, sign bits in the cold index
        assert tiers_app.store.blob(mid, "page") is None
    # Recall still finds a hazy memory and says its tier.
    hits = tiers_app.recall("tram castle", now=NOW + HAZY, strengthen=False)
    assert any(h.memory.id == ids[2] and h.memory.tier == "hazy" for h in hits)


def test_with_words_leave_fade_words_give_way_to_a_gist_when_hazy(home: Path) -> None:
    with make_app(home, words_leave="fade") as app:
        ids = episode(app, NOW, TRIP)
        app.consolidate(now=NOW + HAZY)
        for mid, text in zip(ids, TRIP, strict=True):
            memory = app.store.get(mid)
            assert memory is not None
            assert memory.tier == "hazy"
            assert len(memory.text) <= 80
            assert memory.text != text


def test_hazy_goes_to_archive_and_time_alone_deletes_nothing(tiers_app: Papertape) -> None:
    ids = episode(tiers_app, NOW, TRIP)
    (summary_id,) = tiers_app.consolidate(now=NOW + HAZY).summaries
    summary_text = tiers_app.store.get(summary_id).text  # type: ignore[union-attr]
    report = tiers_app.consolidate(now=NOW + ARCHIVED)  # R < 0.05
    archived = {m.memory_id for m in report.moves if m.after == "archive"}
    assert set(ids) <= archived
    for mid in ids:
        memory = tiers_app.store.get(mid)
        assert memory is not None
        assert memory.tier == "archive"
        assert memory.vector_bytes == 48 + 48
    report = tiers_app.consolidate(now=NOW + YEARS)
    assert not [m for m in report.moves if m.after == "forgotten"]
    assert set(tiers_app.store.get_many(ids)) == set(ids)
    # The summary of an old episode keeps its words; its page goes (archive_page = "drop").
    summary = tiers_app.store.get(summary_id)
    assert summary is not None
    assert summary.tier == "archive"
    assert summary.text == summary_text
    assert tiers_app.store.blob(summary_id, "page") is None


def test_a_retention_the_person_sets_forgets_by_age(home: Path) -> None:
    with make_app(home, retention_days=365) as app:
        ids = episode(app, NOW, TRIP)
        pinned = app.note("Passport number is in the blue folder.", now=NOW).memory_id
        app.set_pinned([pinned], True)  # type: ignore[list-item]
        fresh = episode(app, NOW + 300 * DAY, ["Bought a bike."], source="b")
        report = app.consolidate(now=NOW + 400 * DAY)
        gone = {m.memory_id for m in report.moves if m.reason == "retention"}
        assert set(ids) <= gone
        assert not gone & {pinned, *fresh}
        assert app.store.get_many(ids) == {}


def test_small_talk_goes_when_it_would_be_archived(tiers_app: Papertape) -> None:
    chat = ["Ha, nice one!", "Talk soon, take care.", "You too!"]
    talk = episode(tiers_app, NOW, chat, source="chat", facts=None)
    kept = episode(tiers_app, NOW, TRIP)
    report = tiers_app.consolidate(now=NOW + HAZY)
    assert {tiers_app.store.get(mid).tier for mid in talk} == {"hazy"}  # type: ignore[union-attr]
    (talk_summary, kept_summary) = sorted(
        {
            link.from_id
            for mid in (talk[0], kept[0])
            for link in tiers_app.store.links_to(mid)
            if link.relation == "summarizes"
        }
    )
    report = tiers_app.consolidate(now=NOW + ARCHIVED)
    forgotten = {m.memory_id for m in report.moves if m.reason == "small talk"}
    assert forgotten == {*talk, talk_summary}  # an episode of nothing else leaves no summary
    assert tiers_app.store.get_many([*talk, talk_summary]) == {}
    assert set(tiers_app.store.get_many([*kept, kept_summary])) == {*kept, kept_summary}


def test_small_talk_an_answer_cited_still_goes(tiers_app: Papertape) -> None:
    # An exchange with papertape links derived_from what it cited; that is not a fact
    # resting on the line, so it does not keep small talk from going.
    talk = episode(tiers_app, NOW, ["Ha, nice one!", "Talk soon!"], source="chat", facts=None)
    exchange = tiers_app.ingestor.note(
        "Q: anything new? A: nothing.", now=NOW + 60, source="papertape:ask", kind="chat"
    ).memory_id
    assert exchange is not None
    with tiers_app.store.transaction():
        tiers_app.store.link(exchange, talk[0], "derived_from")
    tiers_app.consolidate(now=NOW + HAZY)
    report = tiers_app.consolidate(now=NOW + ARCHIVED)
    assert set(talk) <= {m.memory_id for m in report.moves if m.reason == "small talk"}


def test_words_not_yet_read_for_facts_stay_whole_in_every_tier(tiers_app: Papertape) -> None:
    ids = []
    for offset, text in enumerate(TRIP):
        result = tiers_app.note(text, now=NOW + offset, occurred_at=NOW + offset, source="x")
        ids.append(result.memory_id)
    tiers_app.consolidate(now=NOW + HAZY)
    tiers_app.consolidate(now=NOW + YEARS)
    for mid, text in zip(ids, TRIP, strict=True):
        memory = tiers_app.store.get(mid)  # type: ignore[arg-type]
        assert memory is not None
        assert memory.tier == "archive"
        assert memory.text == text
        assert memory.vector_bytes == 48 + 48  # the vector is cut to bits all the same


def test_the_archive_can_keep_the_summary_page(home: Path) -> None:
    with make_app(home, archive_page="keep") as app:
        episode(app, NOW, TRIP)
        (summary_id,) = app.consolidate(now=NOW + HAZY).summaries
        summary_text = app.store.get(summary_id).text  # type: ignore[union-attr]
        app.consolidate(now=NOW + 5 * YEARS)
        summary = app.store.get(summary_id)
        assert summary is not None
        assert summary.tier == "archive"
        page = app.store.blob(summary_id, "page")
        assert page is not None
        assert page.data == render_page(summary_text).data


def test_pinned_memories_never_move(tiers_app: Papertape) -> None:
    ids = episode(tiers_app, NOW, TRIP)
    tiers_app.set_pinned([ids[1]], True)
    report = tiers_app.consolidate(now=NOW + 400 * DAY)
    assert ids[1] not in {m.memory_id for m in report.moves}
    pinned = tiers_app.store.get(ids[1])
    assert pinned is not None
    assert pinned.tier == "sharp"
    assert pinned.text == TRIP[1]


def test_recall_keeps_a_memory_sharp(tiers_app: Papertape) -> None:
    ids = episode(tiers_app, NOW, TRIP)
    tiers_app.recall("fado bar sardines", now=NOW + 10 * DAY, k=1)
    report = tiers_app.consolidate(now=NOW + HAZY)
    moved = {m.memory_id for m in report.moves}
    assert ids[1] not in moved
    assert {ids[0], ids[2]} <= moved


def test_near_duplicates_merge_and_strengths_add(tiers_app: Papertape) -> None:
    first = tiers_app.note("Parked the car on level 3, spot B12.", now=NOW).memory_id
    second = tiers_app.note("Parked the car on level 3 spot B12", now=NOW + 60).memory_id
    other = tiers_app.note("Parked the car on level 4, spot C7.", now=NOW + 120).memory_id
    before = tiers_app.store.get_many([first, second])  # type: ignore[list-item]
    report = tiers_app.consolidate(now=NOW + 3600)
    assert report.merged == [(first, second)]
    kept = tiers_app.store.get(first)  # type: ignore[arg-type]
    assert kept is not None
    assert kept.strength == pytest.approx(before[first].strength + before[second].strength)  # type: ignore[index]
    assert tiers_app.store.get(second) is None  # type: ignore[arg-type]
    assert tiers_app.store.get(other) is not None  # type: ignore[arg-type]  # other values


class FailingSummarizer(ExtractiveSummarizer):
    """Summarises one episode, then fails as a killed process would."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def summarize(self, texts: Sequence[str]) -> str:
        self.calls += 1
        if self.calls > 1:
            raise KeyboardInterrupt
        return super().summarize(texts)


def test_a_run_stopped_midway_leaves_each_memory_whole(tiers_app: Papertape) -> None:
    first = episode(tiers_app, NOW, TRIP, source="a")
    other_trip = [text.replace("Lisbon", "Porto").replace("Alfama", "Ribeira") for text in TRIP]
    other_trip[2] = "Walked across the Dom Luis bridge at sunset with port wine."
    second = episode(tiers_app, NOW, other_trip, source="b")
    consolidator = Consolidator(
        tiers_app.store, tiers_app.embedder, tiers_app.settings, FailingSummarizer()
    )
    with pytest.raises(KeyboardInterrupt):
        consolidator.run(NOW + HAZY)
    for mid in first:
        memory = tiers_app.store.get(mid)
        assert memory is not None
        assert memory.tier == "hazy"
    (summary,) = {
        link.from_id for link in tiers_app.store.links_to(first[0]) if link.relation == "summarizes"
    }
    assert tiers_app.store.blob(summary, "page") is not None
    for mid, text in zip(second, other_trip, strict=True):
        memory = tiers_app.store.get(mid)
        assert memory is not None
        assert memory.tier == "sharp"
        assert memory.text == text
        assert not [r for r in tiers_app.store.links_to(mid) if r.relation == "summarizes"]
    # The next run finishes the job.
    tiers_app.consolidate(now=NOW + HAZY)
    assert {tiers_app.store.get(mid).tier for mid in second} == {"hazy"}  # type: ignore[union-attr]


def speech_like_wav(seconds: float = 3.0) -> bytes:
    """A real WAV file: a warbling tone, 16 kHz mono."""
    import io
    import wave

    import numpy as np

    rate = 16_000
    t = np.arange(int(rate * seconds)) / rate
    pcm = (np.sin(2 * np.pi * (300 + 80 * np.sin(2 * np.pi * 3 * t)) * t) * 8000).astype(np.int16)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())
    return buffer.getvalue()


@pytest.mark.needs("av")
def test_hazy_media_is_downscaled_and_audio_compressed(tiers_app: Papertape) -> None:
    import io

    import av
    from PIL import Image

    ids = episode(tiers_app, NOW, TRIP)
    big = io.BytesIO()
    Image.effect_noise((1280, 720), 40).convert("RGB").save(big, format="PNG")
    wav = speech_like_wav()
    with tiers_app.store.transaction():
        tiers_app.store.put_blob(Blob(ids[0], "thumbnail", "image/png", big.getvalue()))
        tiers_app.store.put_blob(Blob(ids[1], "media", "audio/wav", wav))
        tiers_app.store.put_blob(Blob(ids[2], "media", "audio/wav", b"RIFF not really audio"))
    tiers_app.consolidate(now=NOW + HAZY)
    thumb = tiers_app.store.blob(ids[0], "thumbnail")
    assert thumb is not None
    assert thumb.media_type == "image/webp"
    assert len(thumb.data) < len(big.getvalue())
    with Image.open(io.BytesIO(thumb.data)) as small:
        assert max(small.size) <= 256
        red, green, blue = small.convert("RGB").split()  # WebP decodes grey as RGB
        assert red.tobytes() == green.tobytes() == blue.tobytes()
    audio = tiers_app.store.blob(ids[1], "media")
    assert audio is not None
    assert audio.media_type == "audio/ogg"
    assert len(audio.data) < len(wav) / 5
    with av.open(io.BytesIO(audio.data)) as opus:
        assert opus.streams.audio[0].codec_context.name == "opus"
        assert abs(opus.duration / 1e6 - 3.0) < 0.1  # type: ignore[operator, union-attr]
    # A damaged file is left as it was; the memory still went hazy.
    damaged = tiers_app.store.blob(ids[2], "media")
    assert damaged is not None
    assert damaged.data == b"RIFF not really audio"
    assert tiers_app.store.get(ids[2]).tier == "hazy"  # type: ignore[union-attr]


@pytest.mark.parametrize("policy", ["keep", "drop"])
def test_hazy_audio_can_be_kept_or_dropped(home: Path, policy: str) -> None:
    with make_app(home, hazy_audio=policy) as app:
        ids = episode(app, NOW, TRIP)
        wav = speech_like_wav(1.0)
        with app.store.transaction():
            app.store.put_blob(Blob(ids[1], "media", "audio/wav", wav))
        app.consolidate(now=NOW + HAZY)
        kept = app.store.blob(ids[1], "media")
        assert (kept is not None and kept.data == wav) if policy == "keep" else kept is None
        app.consolidate(now=NOW + ARCHIVED)  # the archive keeps no media
        assert app.store.blob(ids[1], "media") is None


def test_words_that_leave_leave_the_database_files(home: Path) -> None:
    tiers_app = make_app(home, words_leave="fade")
    ids = episode(
        tiers_app,
        NOW,
        ["My locker code is zanzibarquokka. The spare key is taped under the desk drawer."],
        facts="Has a locker.",
    )
    tiers_app.store.checkpoint()
    path = tiers_app.settings.store_path
    assert b"zanzibarquokka" in path.read_bytes()

    def on_disk() -> bytes:
        tiers_app.store.checkpoint()
        wal = Path(str(path) + "-wal")
        return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")

    tiers_app.consolidate(now=NOW + HAZY)
    assert tiers_app.store.get(ids[0]).tier == "hazy"  # type: ignore[union-attr]
    assert b"taped under the desk drawer" not in on_disk()  # the gist keeps sentence one
    tiers_app.close()
    with make_app(home, retention_days=365) as aged:
        aged.consolidate(now=NOW + YEARS)  # -> archive -> forgotten, by the retention set
        assert aged.store.get(ids[0]) is None
    assert b"zanzibarquokka" not in on_disk()


@pytest.mark.integration
def test_the_real_model_writes_the_summary_and_rates_importance(home: Path) -> None:
    with make_app(home, summarizer="model", model="smollm2-135m") as app:
        ids = episode(app, NOW, TRIP)
        report = app.consolidate(now=NOW + HAZY)
        assert report.summarizer == "model:smollm2-135m"
        assert report.rated == len(ids)
        if report.summaries:  # a rating may have kept a memory sharp
            summary = app.store.get(report.summaries[0])
            assert summary is not None
            assert len(summary.text) >= 20
            assert summary.text not in TRIP


def test_faded_memories_that_keep_their_words_are_recalled_themselves(
    tiers_app: Papertape,
) -> None:
    ids = episode(tiers_app, NOW, TRIP)
    report = tiers_app.consolidate(now=NOW + ARCHIVED)  # members archived, words whole
    assert len(report.summaries) == 1
    hits = tiers_app.recall("tram castle river view", now=NOW + ARCHIVED, strengthen=False)
    ranked = [h.memory.id for h in hits]
    assert ranked[0] == ids[2]  # its own words answer, not the episode's summary
    assert set(ids) <= set(ranked)


def test_memories_whose_words_were_cut_answer_through_their_summary(home: Path) -> None:
    with make_app(home, words_leave="fade") as app:
        ids = episode(app, NOW, TRIP)
        report = app.consolidate(now=NOW + ARCHIVED)  # members cut to gists and archived
        (summary_id,) = report.summaries
        assert app.store.get(summary_id).tier == "hazy"  # type: ignore[union-attr]
        hits = app.recall("tram castle river view", now=NOW + ARCHIVED, strengthen=False)
        ranked = [h.memory.id for h in hits]
        assert summary_id in ranked  # lifted by its member, whatever its own words
        below = ranked[ranked.index(summary_id) + 1 :]
        assert not set(below) & set(ids)  # members under their summary are left out
