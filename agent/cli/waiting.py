"""A line that counts the seconds of a wait on the terminal, until what was waited for comes.

On 2 cores the model reads its prompt for 20-40 s before the first word of an answer: the
person sees that it is working and for how long, instead of a silent terminal. The line is
written to stderr, rewritten in place, and rubbed out before the answer is printed.
"""

from __future__ import annotations

import sys
import threading
import time
from types import TracebackType
from typing import TextIO

CLEAR_LINE = "\r\x1b[2K"


class Waiting:
    def __init__(self, label: str, *, stream: TextIO | None = None, every: float = 1.0) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.every = every
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._count, daemon=True)
        self._started = time.monotonic()

    def __enter__(self) -> Waiting:
        self._started = time.monotonic()
        self._write(f"{CLEAR_LINE}{self.label}")
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        """End the count and rub the line out; later calls do nothing."""
        if self._done.is_set():
            return
        self._done.set()
        if self._thread.is_alive():
            self._thread.join()
        self._write(CLEAR_LINE)

    def _count(self) -> None:
        while not self._done.wait(self.every):
            seconds = time.monotonic() - self._started
            self._write(f"{CLEAR_LINE}{self.label} {seconds:.0f} s")

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()
