"""What an inbox scan takes, leaves and sets aside (agent/ingest/inbox.py), on real folders."""

from __future__ import annotations

from pathlib import Path

from agent.ingest.inbox import arrivals


def test_a_scan_takes_settled_files_and_sets_folders_aside(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    sizes: dict[Path, int] = {}
    assert arrivals(inbox, sizes) == []
    assert inbox.stat().st_mode & 0o777 == 0o700  # made private on the first scan
    (inbox / "note.txt").write_text("the spare key is under the mat")
    (inbox / ".note.txt.swp").write_text("an editor's temporary file")
    (inbox / "trip").mkdir()
    (inbox / "trip" / "day1.txt").write_text("walked to the lighthouse")
    assert arrivals(inbox, sizes) == []  # a file is taken once its size held for a scan
    assert arrivals(inbox, sizes) == [inbox / "note.txt"]
    assert (inbox / ".note.txt.swp").exists()  # hidden: left alone
    assert not (inbox / "trip").exists()
    assert (inbox / "rejected" / "trip" / "day1.txt").exists()
    reason = (inbox / "rejected" / "trip.reason").read_text()
    assert reason == "trip is a folder: drop the files in it, or run papertape ingest on it.\n"
