"""How a run ends: its exit code and the confirmation pyinfra asks before it.

A red check (verify's, monitoring's) makes the run exit non-zero, but the host
stays in the run: failing it mid-run would print a Python traceback per host
and, for the last one, pyinfra's "No hosts remaining!". The hosts found red
are counted as failed only when pyinfra decides its exit code, after its
results. Steps that must not follow a red check (recording a release) ask
`red_hosts`.

pyinfra asks for a confirmation whenever operations were planned; when none
of them would change anything (a verify, a converged cluster) there is
nothing to confirm and none is asked, with or without a terminal.

"Would anything change?" for CI: with SEEDCORE_CHECK=1 a `--dry` run ends
with one line, `--> Would change: N operations on M hosts (...)` or
`--> Nothing would change`, and exits 2 or 0 (1 as ever when a host failed or
the run was refused). Verify's checks only read, so they are never counted.
"""

import os
import sys

from seedcore.pyinfra_seam import (
    before_exit,
    count_as_failed,
    dry_run,
    failed_hosts,
    is_change,
    on_confirm,
    planned_ops,
)
from seedcore.run_context import run_of

CONFIRM_CHANGES = "Detected changes displayed above"
# The variable that asks a --dry run "would anything change?", and its exit codes.
CHECK_ENV = "SEEDCORE_CHECK"
EXIT_NOTHING, EXIT_WOULD_CHANGE = 0, 2


def note_red(state, host_name: str, what: str) -> None:
    """Count `host_name` red in this run, with `what` was red (the first reason kept)."""
    run_of(state).red.setdefault(host_name, what)


def red_hosts(state) -> dict[str, str]:
    """Host name -> what was red, for the hosts a check found red in this run."""
    return dict(run_of(state).red)


def planned_changes(state) -> list[tuple[str, str]]:
    """(host name, operation name) of every planned operation that would or might change a host."""
    return [(host.name, name) for host, op_hash, name in planned_ops(state)
            if is_change(state, host, op_hash)]


def _confirm(state, message: str) -> bool | None:
    if message.startswith(CONFIRM_CHANGES) and not planned_changes(state):
        return True
    return None


def _count_red(state) -> None:
    red = red_hosts(state)
    count_as_failed(state, [host for host in state.inventory if host.name in red])


def check_asked(environ=os.environ) -> bool:
    """Whether this run asks "would anything change?" (SEEDCORE_CHECK=1)."""
    return environ.get(CHECK_ENV, "").strip().lower() in ("1", "true", "yes")


def check_problem(environ=os.environ, dry: bool | None = None) -> str | None:
    """Why the check cannot be answered by this run, or None: it must only plan (--dry)."""
    if check_asked(environ) and dry is False:
        return (f"{CHECK_ENV}=1 asks whether anything would change, which only a plan answers: "
                "add --dry (nothing is changed then)")
    return None


def check_line(changes: list[tuple[str, str]]) -> tuple[str, int]:
    """The check's one line and exit code for these planned (host, operation) changes."""
    if not changes:
        return "--> Nothing would change", EXIT_NOTHING
    operations = sorted({name for _, name in changes})
    hosts = sorted({host for host, _ in changes})
    plural = "s" if len(hosts) != 1 else ""
    return (f"--> Would change: {len(operations)} operation{'s' if len(operations) != 1 else ''} "
            f"on {len(hosts)} host{plural} ({', '.join(hosts)})", EXIT_WOULD_CHANGE)


def _answer_check(state) -> None:
    if failed_hosts(state):
        print(f"--> Could not tell whether anything would change: failed {', '.join(failed_hosts(state))}")
        return
    line, code = check_line(planned_changes(state))
    print(line)
    sys.exit(code)


def _before_exit(state) -> None:
    _count_red(state)
    if check_asked() and dry_run():
        _answer_check(state)


def settle(state) -> None:
    """Register, once per run, the run's answer to pyinfra's confirmation and its exit step."""
    on_confirm(state, lambda message: _confirm(state, message))
    before_exit(state, lambda: _before_exit(state))
