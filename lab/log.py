"""Progress lines on stderr, so stdout stays clean for `status --json`."""

import sys


def step(message: str) -> None:
    print(f"lab: {message}", file=sys.stderr, flush=True)


def info(message: str) -> None:
    print(f"lab:   {message}", file=sys.stderr, flush=True)
