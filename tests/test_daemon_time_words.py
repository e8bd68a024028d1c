"""The daemon's time-words job (agent/daemon/jobs.py): memories that came in are read for
their time words within minutes, not only by the night's consolidation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agent.daemon import jobs
from agent.daemon.server import Daemon
from agent.memory.times import TIME_MARK
from agent.service import Papertape
from agent.settings import load_settings
from models.fake_embedder import FakeEmbedder
from models.fake_generator import ScriptedGenerator
from storage import TimeWords
from tests.facts_support import daemon_on, episode, job_interval, make_app, script
from tests.test_times import MON_8_MAY, reply

LINES = ["Ana: the exam is tomorrow.", "Ben: good luck"]


def test_new_memories_are_read_once_and_a_second_run_asks_nothing(home: Path) -> None:
    with make_app(home, time_words="auto", facts="off") as app:
        exam, luck = episode(app, MON_8_MAY, LINES)
        model = script(app, reply("day", 1, "tomorrow"), reply("none", 0, ""))
        jobs.read_time_words(daemon_on(app))
        assert app.time_words(exam) == TimeWords("tomorrow", "day", 1)
        assert app.time_words(luck) is None
        assert app.store.marked(TIME_MARK) == {exam, luck}
        assert len(model.prompts) == 2
        jobs.read_time_words(daemon_on(app))
        assert len(model.prompts) == 2
        (later,) = episode(app, MON_8_MAY + 3600, ["Ana: we met last week."])
        script(app, reply("week", -1, "last week"))
        jobs.read_time_words(daemon_on(app))
        assert app.time_words(later) == TimeWords("last week", "week", -1)
        assert len(model.prompts) == 3


def test_nothing_is_read_when_time_words_are_off_or_summaries_need_no_model(home: Path) -> None:
    for name, overrides in (
        ("off", {"time_words": "off"}),
        ("extractive", {"time_words": "auto", "summarizer": "extractive"}),
    ):
        with make_app(home / name, facts="off", **overrides) as app:
            episode(app, MON_8_MAY, LINES)
            model = script(app)
            jobs.read_time_words(daemon_on(app))
            assert model.prompts == []
            assert app.store.marked(TIME_MARK) == set()


class StopsTheDaemon(ScriptedGenerator):
    """The daemon is told to stop while the model reads the first memory."""

    daemon: Daemon

    def stream(self, prompt: str, **kwargs: Any) -> Iterator[str]:
        self.daemon.stopping.set()
        return super().stream(prompt, **kwargs)


def test_a_stopping_daemon_ends_after_the_memory_in_hand_and_the_rest_wait(home: Path) -> None:
    settings = load_settings(home, overrides={"embedder": "fake", "facts": "off"})
    model = StopsTheDaemon(["{}", "{}"])
    with Papertape(settings, embedder=FakeEmbedder(), generator=model) as app:
        exam, luck = episode(app, MON_8_MAY, LINES)
        daemon = daemon_on(app)
        model.daemon = daemon
        jobs.read_time_words(daemon)
        assert app.store.marked(TIME_MARK) == {exam}
        assert daemon.busy is None
        # What was left is read at the next run, or by consolidation.
        daemon.stopping.clear()
        jobs.read_time_words(daemon)
        assert app.store.marked(TIME_MARK) == {exam, luck}


def test_the_job_runs_every_ten_minutes_by_default_and_0_turns_it_off(home: Path) -> None:
    for minutes, interval in ((10.0, 600.0), (0.0, None)):
        with make_app(home / str(minutes), time_words_every_minutes=minutes) as app:
            assert job_interval(app, "time_words") == interval
