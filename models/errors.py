"""Model errors; each message says what to do."""


class ModelError(Exception):
    """A model could not be loaded or run."""


class MissingRuntimeError(ModelError):
    """The Python runtime a backend needs is not installed."""


class MissingModelError(ModelError):
    """A model file is not on this machine."""


class ChecksumError(ModelError):
    """A model file is not the file that was pinned."""


class UnknownModelError(ModelError):
    """A model name that is not in the catalog."""


class CorruptModelError(ModelError):
    """A model file that is damaged, truncated or not a model at all (bad input, not a bug)."""


class ModelTooLargeError(ModelError):
    """A model that would not fit in this machine's free memory."""


class UnconstrainedError(ModelError):
    """A backend that cannot hold its output to a JSON schema was given one."""
