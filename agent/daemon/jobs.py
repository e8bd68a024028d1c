"""The daemon's scheduled jobs (APScheduler 3), each with a setting for its interval.

| job | default | setting |
|---|---|---|
| consolidate: merges, facts, decay, tiers, byte budget | every 24 h | consolidate_every_hours |
| time words: read those of memories that came in since | every 10 min | time_words_every_minutes |
| facts: write those of new memories, link their updates | every 30 min | facts_every_minutes |
| inbox: ingest files dropped into the inbox folders | every 5 s | inbox_every_seconds |
| vacuum: fold the WAL in, rewrite the file compactly | every 168 h | vacuum_every_hours |
| capture: a screenshot, where there is a display | off (0) | capture_every_minutes |

A setting of 0 turns a job off. After the machine sleeps, missed runs are coalesced into one
(`coalesce`), a job never overlaps itself (`max_instances=1`), and the jobs that use the
store or a model take the daemon's one lock, so heavy work runs one job at a time. When the
daemon stops, a consolidation stops after the episode in hand (each is its own transaction)
and the files a job queued stay queued.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.clock import resolve_now
from agent.errors import Failure, Stopped
from agent.ingest.inbox import arrivals, inbox_folders
from agent.memory.facts import FACT_MARK, unread
from agent.memory.report import ConsolidationReport, Progress
from agent.memory.times import TIME_MARK

if TYPE_CHECKING:
    from agent.daemon.server import Daemon

log = logging.getLogger("papertape.jobs")


def start_scheduler(daemon: Daemon) -> Any:
    from apscheduler.schedulers.background import BackgroundScheduler

    settings = daemon.settings
    scheduler = BackgroundScheduler(
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
    )
    sizes: dict[Path, int] = {}
    # Each job: its id, what it runs and with what, and its interval in seconds (0: off).
    jobs: list[tuple[str, Callable[..., None], list[Any], float]] = [
        ("consolidate", consolidate, [daemon], settings.consolidate_every_hours * 3600),
        ("time_words", read_time_words, [daemon], settings.time_words_every_minutes * 60),
        ("facts", read_facts, [daemon], settings.facts_every_minutes * 60),
        ("inbox", watch_inbox, [daemon, sizes], settings.inbox_every_seconds),
        ("vacuum", vacuum, [daemon], settings.vacuum_every_hours * 3600),
        ("capture", capture, [daemon], settings.capture_every_minutes * 60),
    ]
    for job_id, run, args, seconds in jobs:
        if seconds > 0:
            scheduler.add_job(run, "interval", seconds=seconds, args=args, id=job_id)
    if settings.inbox_every_seconds > 0:  # there from the start, private, for files to drop
        for folder in inbox_folders(settings):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    scheduler.start()
    return scheduler


def consolidate(daemon: Daemon) -> None:
    try:
        consolidate_now(daemon, now=resolve_now(None))
    except Stopped:
        log.info("consolidation stopped between steps: the daemon is stopping")


def consolidate_now(
    daemon: Daemon,
    *,
    now: float,
    model: str | None = None,
    summarizer: str | None = None,
    progress: Progress | None = None,
    new_only: bool = False,
) -> ConsolidationReport:
    """One consolidation under the daemon's lock, the nightly job's or one asked for, or
    (`new_only`) the facts job's: how far it has gone shows in status, and goes to `progress`
    too. Stops at its next step (an episode is one transaction) when the daemon stops or
    `progress` raises Stopped."""
    doing = "reading new memories" if new_only else "consolidating"

    def step(done: int, total: int, label: str) -> None:
        daemon.busy = f"{doing}: {label} ({done} of {total})"
        if daemon.stopping.is_set():
            raise Stopped("the daemon is stopping: consolidate again when it runs.")
        if progress is not None:
            progress(done, total, label)

    with daemon.lock:
        try:
            daemon.busy = doing
            report = daemon.app.consolidate(
                now=now, model=model, summarizer=summarizer, progress=step, new_only=new_only
            )
        finally:
            daemon.busy = None
    sizes = "" if new_only else f"; bytes {report.bytes_before} -> {report.bytes_after}"
    log.info(
        "%s: %s; time words in %d of %d read; facts %d made, %d unsupported, "
        "%d told of the wrong person, %d updates%s",
        doing,
        report.counts() or "nothing moved",
        len(report.times_found),
        report.times_read,
        len(report.facts),
        report.facts_unsupported,
        report.facts_misattributed,
        len(report.fact_updates),
        sizes,
    )
    return report


def read_facts(daemon: Daemon) -> None:
    """Write the facts of the memories that came in since, and link the updates they make,
    so that a moved appointment is answered with its new time within the hour, not after the
    night's consolidation: until then, `ask` shows both notes, and the small model answered
    from the older (docs/BENCHMARKS.md). The model loads only when something is waiting."""
    app = daemon.app
    with daemon.lock:
        if app.settings.facts == "off" or not unread(app.store, FACT_MARK):
            return
        try:  # facts come from the model summaries use, held to a schema (none: nothing to do)
            _, generator = app.summarizer()
        except Failure as exc:
            log.warning("facts: not read (%s)", exc)
            return
    if generator is None or not generator.constrains_output:
        return
    try:
        consolidate_now(daemon, now=resolve_now(None), new_only=True)
    except Stopped:
        log.info("facts: stopped between episodes: the daemon is stopping")


def read_time_words(daemon: Daemon) -> None:
    """Read the time words of the memories that came in since the last run, so that answers
    date "yesterday" the same day, not after the night's consolidation (which reads what is
    left). One memory per hold of the lock: a question waits for one reading (about 2 s with
    the 1.5B), not for the batch. The model loads only when something is waiting."""
    app = daemon.app
    with daemon.lock:
        waiting = [m.id for m in unread(app.store, TIME_MARK)]
        if not waiting:
            return
        try:
            reader = app.time_reader()
        except Failure as exc:
            log.warning("time words: not read (%s)", exc)
            return
    if reader is None:
        return
    read = found = 0
    try:
        for done, memory_id in enumerate(waiting, start=1):
            if daemon.stopping.is_set():
                break
            with daemon.lock:
                daemon.busy = f"reading time words ({done} of {len(waiting)})"
                memory = app.store.get(memory_id)
                # Consolidation may have read it meanwhile, or the person forgotten it.
                if memory is None or TIME_MARK in app.store.marks_of(memory_id):
                    continue
                read += 1
                found += reader.read(memory) is not None
    finally:
        daemon.busy = None
    log.info("time words: %d of %d new memories name another time", found, read)


def watch_inbox(daemon: Daemon, sizes: dict[Path, int]) -> None:
    ready = []
    for folder in inbox_folders(daemon.settings):
        ready += arrivals(folder, sizes)
    if not ready:
        return
    now = resolve_now(None)
    log.info("inbox: %d new file(s)", len(ready))
    items = [("path", {"path": str(p), "now": now, "after": "move"}) for p in ready]
    try:
        daemon.submit(items, now).result()
    except Stopped:
        log.info("inbox: the daemon is stopping; the files stay queued")


def vacuum(daemon: Daemon) -> None:
    with daemon.lock:
        store = daemon.app.store
        store.vacuum()
    log.info("vacuum: WALs folded back, both files rewritten without free pages")


def capture(daemon: Daemon) -> None:
    from agent.ingest.capture import capture_screen, display_available

    if not display_available():
        log.warning("capture: no display here; set capture_every_minutes = 0 to silence this")
        return
    now = resolve_now(None)
    shot = capture_screen(daemon.settings.home / "captures" / f"screen-{int(now)}.png")
    try:
        daemon.submit([("path", {"path": str(shot), "now": now})], now).result()
    except Stopped:
        return  # the shot is deleted unread: a capture is of one moment, not a backlog
    finally:
        shot.unlink(missing_ok=True)
