"""The daemon's facts job (agent/daemon/jobs.py): new memories get their facts, and the updates
those make, within the hour, so `ask` leaves out a note a later one changed the same day."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.answer.session import ChatSession
from agent.daemon import jobs
from agent.memory.consolidation import LAST_RUN_KEY
from agent.memory.facts import FACT_MARK
from agent.service import Papertape
from models.fake_generator import ScriptedGenerator
from tests.conftest import NOW, judgement
from tests.facts_support import daemon_on, episode, fact, job_interval, make_app, script

BOOKED = "Ana: my dentist appointment is on 5 March at 10am."
MOVED = "Ana: my dentist appointment moved to 7 March at 2pm."
HOUR = 3600.0


def facts_in(app: Papertape) -> list[int]:
    return [m.id for m in app.store.iter_memories("sharp") if m.kind == "fact"]


def shown_for(app: Papertape, question: str, now: float) -> list[int]:
    chat = ChatSession(app.store, app.embedder, ScriptedGenerator(), app.settings)
    return [m.id for m in chat.ask(question, now=now).memories]


def test_a_moved_appointment_is_linked_the_same_day_and_ask_leaves_the_first_note_out(
    home: Path,
) -> None:
    with make_app(home) as app:
        (first,) = episode(app, NOW, [BOOKED], source="notes")
        model = script(app, {"facts": [fact([first], "Ana's dentist is on 5 March at 10am.")]})
        jobs.read_facts(daemon_on(app))
        (old,) = facts_in(app)
        assert app.store.marked(FACT_MARK) == {first}
        # Later that day the appointment moves; the next run reads only the new note.
        (second,) = episode(app, NOW + HOUR, [MOVED], source="notes")
        script(app, {"facts": [fact([second], "Ana's dentist moved to 7 March at 2pm.")]})
        script(app, judgement(True))
        jobs.read_facts(daemon_on(app))
        (new,) = set(facts_in(app)) - {old}
        assert app.replaced_by(old) == new
        assert app.replaced_by(first) == new  # the first note is history now
        shown = shown_for(app, "When is the dentist?", NOW + 2 * HOUR)
        assert first not in shown
        assert second in shown
        # Nothing else a consolidation does: no tier moved, the night's run still to come.
        assert {m.tier for m in app.store.iter_memories()} == {"sharp"}
        assert app.store.meta(LAST_RUN_KEY) is None
        asked = len(model.prompts)
        jobs.read_facts(daemon_on(app))
        assert len(model.prompts) == asked  # nothing new: the model is not asked
        assert app.store.marked(FACT_MARK) == {first, second}


def test_nothing_is_read_when_facts_are_off(home: Path) -> None:
    with make_app(home, facts="off") as app:
        episode(app, NOW, [BOOKED], source="notes")
        model = script(app)
        jobs.read_facts(daemon_on(app))
        assert model.prompts == []
        assert app.store.marked(FACT_MARK) == set()


def test_a_stopping_daemon_leaves_the_rest_for_the_next_run(home: Path) -> None:
    with make_app(home) as app:
        (first,) = episode(app, NOW, [BOOKED], source="notes")
        (second,) = episode(app, NOW + 10 * HOUR, [MOVED], source="notes")
        script(app, {"facts": [fact([first], "Ana's dentist is on 5 March at 10am.")]})
        daemon = daemon_on(app)
        daemon.stopping.set()
        jobs.read_facts(daemon)  # stops at its first step, before the first episode
        assert app.store.marked(FACT_MARK) == set()
        assert daemon.busy is None
        daemon.stopping.clear()
        script(app, {"facts": [fact([second], "Ana's dentist moved to 7 March at 2pm.")]})
        script(app, judgement(False))
        jobs.read_facts(daemon)
        assert app.store.marked(FACT_MARK) == {first, second}


def test_the_job_runs_every_thirty_minutes_by_default_and_0_turns_it_off(home: Path) -> None:
    cases: list[tuple[str, dict[str, Any], float | None]] = [
        ("default", {}, 1800.0),
        ("off", {"facts_every_minutes": 0}, None),
    ]
    for name, overrides, interval in cases:
        with make_app(home / name, **overrides) as app:
            assert job_interval(app, "facts") == interval
