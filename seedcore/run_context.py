"""Everything one run knows, in one typed object.

pyinfra gives a deploy one `State` per run; the run's own knowledge (what
preflight found, the facts it read in one go, the lock it holds, the head
decision, the verify results, the timings) lives in the `RunContext` for that
State, never in attributes hung on pyinfra's object. `run_of(state)` finds it;
the first call of a run makes it (the entry point's first step, `watch`), and
it goes with its State. The gates (gevent semaphores) that keep one host at a
time in preflight, in taking the lock and in printing the verify report are
the run's too: two runs in one process (the tests) never share one.
"""

import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field

from gevent.lock import Semaphore
from pyinfra.api.state import BaseStateCallback


@dataclass
class RunContext:
    """One run's knowledge; the fields are filled as the run goes."""

    # What the run does (seedcore/start.py Kind), set as it starts.
    kind: str = ""
    # When the run began (UTC), naming its archives.
    stamp: str = field(default_factory=lambda: time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()))
    # Preflight: checked once for every host; the hosts already failed when it ran.
    preflight_done: bool = False
    # What refused the run in preflight (every host raises it: none goes on to the lock).
    preflight_refusal: Exception | None = None
    failed_at_start: set[str] = field(default_factory=set)
    # The facts read in one go per host: {host name: (stamps, snapshot, reads)}.
    snapshots: dict[str, tuple] = field(default_factory=dict)
    # Facts whose command failed, each failing its host: {host name: [line, ...]}.
    fact_failures: dict[str, list[str]] = field(default_factory=dict)
    # Facts read outside a host's snapshot: {host name: [fact key, ...]}.
    fact_misses: dict[str, list[str]] = field(default_factory=dict)
    # The run's own pyinfra callbacks: hostfacts.CommandTally, timings.RunTimings, runwatch.RunWatch.
    tally: BaseStateCallback | None = None
    # The deploy lock: (head, directory, token) once held, or the refusal (LockHeld).
    lock: tuple | Exception | None = None
    # The head decision: {host name: (role, current, ...)}, made once per run.
    head_current: dict | None = None
    # Verify: results by host, Ray nodes lost since the run began, report printed.
    verify_results: dict = field(default_factory=dict)
    lost_nodes: dict = field(default_factory=dict)
    verify_reported: bool = False
    # Hosts a check found red in this run: {host name: what}; they make the run exit non-zero.
    red: dict[str, str] = field(default_factory=dict)
    # Around pyinfra's command line (seedcore/outcome.py): its answer to pyinfra's
    # confirmation (True/False, None: let pyinfra ask) and its step before the exit code.
    confirm_answer: Callable[[str], bool | None] | None = None
    before_exit: Callable[[], None] | None = None
    # Ray's Grafana dashboards read from the head in this run: {file name: JSON text}.
    grafana_dashboards: dict[str, str] | None = None
    # The rollout's plan announced once.
    announced: bool = False
    timings: BaseStateCallback | None = None
    # The watchers that give up a host whose SSH connection stops answering (seedcore/liveness.py).
    alive_watchers: list = field(default_factory=list)
    watch: BaseStateCallback | None = None
    # One host at a time: in preflight's checks, in taking the lock, in the verify report.
    preflight_gate: Semaphore = field(default_factory=Semaphore, repr=False)
    lock_gate: Semaphore = field(default_factory=Semaphore, repr=False)
    report_gate: Semaphore = field(default_factory=Semaphore, repr=False)


_CONTEXTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def run_of(state) -> RunContext:
    """The RunContext of the run `state` belongs to (made on the run's first call)."""
    context = _CONTEXTS.get(state)
    if context is None:
        context = _CONTEXTS[state] = RunContext()
    return context
