"""Helpers shared by the fact tests: an app on the scripted model, episodes, replies."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from agent.daemon import jobs
from agent.daemon.server import Daemon
from agent.service import Papertape
from agent.settings import load_settings
from models.fake_embedder import FakeEmbedder
from models.fake_generator import ScriptedGenerator

DAY = 86_400.0


TRIP = [
    "Ana: I flew to Lisbon on Friday, the hotel is on Rua Augusta.",
    "Ben: Nice! Did you try the sardines?",
    "Ana: Yes, grilled sardines at a fado bar in Alfama cost 14 euros.",
]


class DiesOnSecondCall(ScriptedGenerator):
    """Killed while the model works on its second call (an episode, a memory)."""

    def stream(self, prompt: str, **kwargs: Any) -> Iterator[str]:
        if len(self.prompts) == 1:
            raise KeyboardInterrupt
        return super().stream(prompt, **kwargs)


def make_app(home: Path, replies: Sequence[str | None] = (), **overrides: Any) -> Papertape:
    """Time words are off unless asked for: their one call a memory would take the replies
    scripted for facts (tests/test_times.py reads them)."""
    settings = load_settings(home, overrides={"embedder": "fake", "time_words": "off", **overrides})
    return Papertape(settings, embedder=FakeEmbedder(), generator=ScriptedGenerator(replies))


def script(app: Papertape, *replies: Any) -> ScriptedGenerator:
    """Queue replies (dicts become JSON) on the app's scripted model."""
    generator = app.generator()
    assert isinstance(generator, ScriptedGenerator)
    generator.replies += [r if isinstance(r, str) or r is None else json.dumps(r) for r in replies]
    return generator


def fact(ids: Sequence[int], text: str, date: str = "", importance: int = 3) -> dict[str, Any]:
    return {"memory_ids": list(ids), "text": text, "date": date, "importance": importance}


def episode(app: Papertape, at: float, texts: Sequence[str], source: str = "chat-ana") -> list[int]:
    ids = []
    for offset, text in enumerate(texts):
        result = app.note(text, now=at + 60 * offset, occurred_at=at + 60 * offset, source=source)
        assert result.memory_id is not None
        ids.append(result.memory_id)
    return ids


def derived(app: Papertape, fact_id: int) -> list[int]:
    return [link.to_id for link in app.store.links_from(fact_id) if link.relation == "derived_from"]


def daemon_on(app: Papertape) -> Daemon:
    """A daemon around `app`, not serving: for its jobs called directly."""
    return Daemon(app.settings, app)


def job_interval(app: Papertape, job_id: str) -> float | None:
    """The seconds between runs of the daemon's job `job_id` on `app`'s settings; None when
    the job is off."""
    scheduler = jobs.start_scheduler(daemon_on(app))
    try:
        job = scheduler.get_job(job_id)
        return None if job is None else float(job.trigger.interval.total_seconds())
    finally:
        scheduler.shutdown(wait=False)
