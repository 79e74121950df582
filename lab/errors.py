"""The one error type the lab raises: its message is shown to the user as is."""


class LabError(Exception):
    """A failure with a one-line, user-facing explanation."""


class LabNotUp(LabError):
    """The lab has no state file or its hosts are not running."""

    def __init__(self, detail: str = ""):
        message = "the lab is not up: run `make lab` (or python -m lab up)"
        super().__init__(f"{message} ({detail})" if detail else message)
