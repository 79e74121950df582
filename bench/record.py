"""Recording figures: a failed measurement is kept with its reason and the rest still run."""

import statistics
import sys
import time
import traceback

# The last lines of a failure's traceback kept in the results.
TRACEBACK_LINES = 12


def step(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def measured(results: dict, failures: dict, name: str, measure, label: str = ""):
    """results[name] = measure(), or None with the traceback's last lines in
    failures[label or name]: any Exception (a subprocess timeout too) is recorded, never raised.
    A later success under the same label (a figure measured again) clears the failure."""
    label = label or name
    step(label)
    try:
        results[name] = measure()
        failures.pop(label, None)
    except Exception:  # noqa: BLE001 - every failure is recorded; the next measurement runs
        results[name] = None
        lines = traceback.format_exc().strip().splitlines()
        failures[label] = "\n".join(lines[-TRACEBACK_LINES:])
        step(f"{label} FAILED: {lines[-1][:300]}")
    return results[name]


def ratio(numerator, denominator):
    """numerator / denominator, or None when either is missing or the denominator is not positive."""
    if not isinstance(numerator, int | float) or not isinstance(denominator, int | float):
        return None
    if denominator <= 0:
        return None
    return numerator / denominator


def median_of(repeat: int, measure) -> float:
    return statistics.median(measure() for _ in range(max(1, repeat)))


def stopwatch(action) -> float:
    started = time.monotonic()
    action()
    return time.monotonic() - started
