"""Errors the CLI turns into one sentence and an exit code."""


class UserError(Exception):
    """Bad input from the person: exit code 2, nothing written."""

    exit_code = 2


class Failure(Exception):
    """Something failed that was not the person's mistake: exit code 1."""

    exit_code = 1


class Stopped(Failure):
    """The daemon is stopping: the work in hand is left undone (nothing of it is written) and
    what was queued stays queued for the next start."""
