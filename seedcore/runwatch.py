"""What happened to each host in this run: which operation failed on it (or
why pyinfra could not connect), which hosts were changed, and what an
interrupted run (Ctrl-C) says before it exits non-zero.

`watch(state)` is called once by every entry point that runs operations; it
also times the run when SEEDCORE_TIMINGS is set (seedcore/timings.py).
"""

import signal
import sys

from pyinfra import logger
from pyinfra.api.exceptions import ConnectError
from pyinfra.api.state import BaseStateCallback

from seedcore.liveness import watch_hosts
from seedcore.pyinfra_seam import on_interrupt, operation_done, operation_stderr
from seedcore.run_context import run_of
from seedcore.timings import time_run
from seedcore.topology import settings_for

# A stopped run exits 128 + the signal's number, as shells report it (130: Ctrl-C, 143: SIGTERM).
SIGNAL_NAMES = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM"}


class RunWatch(BaseStateCallback):
    """pyinfra callbacks recording, per host, the operation it is in and the one it failed at."""

    def __init__(self):
        self.running: dict[str, str] = {}
        self.failed_at: dict[str, str] = {}
        self.connect_errors: dict[str, str] = {}

    def operation_host_start(self, state, host, op_hash):
        self.running[host.name] = op_hash

    def operation_host_success(self, state, host, op_hash, retry_count=0):
        self.running.pop(host.name, None)

    def operation_host_error(self, state, host, op_hash, retry_count=0, max_retries=0):
        self.running.pop(host.name, None)
        self.failed_at.setdefault(host.name, op_hash)

    def host_connect_error(self, state, host, error):
        self.connect_errors[host.name] = _connect_message(error)


def _connect_message(error) -> str:
    text = str(error.args[0] if getattr(error, "args", None) else error)
    return f"pyinfra could not connect: {text}"


def watch(state) -> RunWatch:
    """The run's watcher, registered on the first call (with the Ctrl-C handler)."""
    run = run_of(state)
    if run.watch is not None:
        return run.watch
    watcher = run.watch = RunWatch()
    state.add_callback_handler(watcher)
    # A host that stops answering mid-run is given up (seedcore/liveness.py).
    run.alive_watchers = watch_hosts(state.inventory.get_active_hosts(), settings_for)
    time_run(state)  # SEEDCORE_TIMINGS: where the run's time went
    on_interrupt(lambda signum: interrupted(state, signum))
    return watcher


def op_name(state, op_hash: str) -> str:
    names = state.get_op_meta(op_hash).names
    return ", ".join(sorted(names)) or op_hash


def _last_error_line(state, host, op_hash: str) -> str:
    lines = [line.strip() for line in operation_stderr(state, host, op_hash) if line.strip()]
    return lines[-1] if lines else ""


def failure_reason(state, host_name: str) -> str:
    """Why a host failed in this run, as pyinfra saw it, in one line."""
    watcher = watch(state)
    host = state.inventory.get_host(host_name)
    op_hash = watcher.failed_at.get(host_name)
    if op_hash:
        line = _last_error_line(state, host, op_hash)
        return f"operation \"{op_name(state, op_hash)}\" failed" + (f": {line}" if line else "")
    if host_name not in watcher.connect_errors:
        watcher.connect_errors[host_name] = _connect_again(host)
    return watcher.connect_errors[host_name]


def _connect_again(host) -> str:
    """A host lost before the watcher existed (at connect time): one more
    connection attempt, for pyinfra's own reason."""
    if host.connected:
        return "pyinfra marked it failed (see the output above)"
    try:
        host.connect(show_errors=False, raise_exceptions=True)
    except ConnectError as error:
        return _connect_message(error)
    except Exception as error:  # noqa: BLE001 (any connector error is the reason we report)
        return f"pyinfra could not connect: {type(error).__name__}: {error}"
    host.disconnect()
    return "pyinfra could not connect at the start of the run (it answers now)"


def changed_hosts(state) -> tuple[list[str], list[str]]:
    """(hosts where an operation ran commands, each host with an operation in progress
    named with it: `worker-1 ("Start the Ray worker")`). A host can be both."""
    watcher = watch(state)
    changed = []
    for host, ops in state.ops.items():
        if any(operation_done(state, host, op_hash)[1] for op_hash in ops):
            changed.append(host.name)
    running = dict(watcher.running)
    return sorted(changed), [f'{name} ("{op_name(state, running[name])}")' for name in sorted(running)]


def interrupted_message(changed: list[str], in_progress: list[str], command: str, by: str = "Ctrl-C") -> str:
    if changed or in_progress:
        parts = []
        if changed:
            parts.append(f"hosts changed before the interrupt: {', '.join(changed)}")
        if in_progress:
            parts.append(f"interrupted in the middle of an operation: {', '.join(in_progress)}")
        what = "; ".join(parts)
    else:
        what = "no host was changed"
    return (
        f"Interrupted ({by}): {what}. Some nodes may be stopped or removed; "
        f"run `{command}` again: a re-run converges."
    )


def interrupted(state, signum: int = signal.SIGINT) -> None:
    """Say what the stopped run changed and what it was in the middle of, then exit
    (the deploy lock is released as pyinfra disconnects)."""
    changed, in_progress = changed_hosts(state)
    command = " ".join(["pyinfra", *sys.argv[1:]])
    by = SIGNAL_NAMES.get(signum, f"signal {signum}")
    logger.error(interrupted_message(changed, in_progress, command, by))
    sys.exit(128 + int(signum))
