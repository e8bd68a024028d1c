"""The wait for an answer's first word is counted on the terminal, and rubbed out after."""

from __future__ import annotations

import io
import time

from agent.cli.waiting import CLEAR_LINE, Waiting


def written_until(stream: io.StringIO, test: str, timeout: float = 10.0) -> str:
    """What the stream holds once `test` is in it (polled: the count runs on its own thread)."""
    deadline = time.monotonic() + timeout
    while test not in stream.getvalue() and time.monotonic() < deadline:
        time.sleep(0.005)
    return stream.getvalue()


def test_the_wait_is_counted_in_place_and_rubbed_out_when_stopped() -> None:
    stream = io.StringIO()
    with Waiting("reading your memories…", stream=stream, every=0.01) as waiting:
        shown = written_until(stream, " s")
        assert shown.startswith(f"{CLEAR_LINE}reading your memories…")
        assert f"{CLEAR_LINE}reading your memories… 0 s" in shown  # rewritten, not appended
        waiting.stop()
        after = stream.getvalue()
        assert after.endswith(CLEAR_LINE)
        time.sleep(0.05)
        assert stream.getvalue() == after  # nothing more once stopped
    assert stream.getvalue() == after  # leaving stops once, not again


def test_leaving_without_an_answer_rubs_the_line_out() -> None:
    stream = io.StringIO()
    with Waiting("reading your memories…", stream=stream, every=5.0):
        pass
    assert stream.getvalue() == f"{CLEAR_LINE}reading your memories…{CLEAR_LINE}"
