"""Errors the CLI turns into one sentence and an exit code."""


class UserError(Exception):
    """Bad input from the person: exit code 2, nothing written."""

    exit_code = 2


class Failure(Exception):
    """Something failed that was not the person's mistake: exit code 1."""

    exit_code = 1
