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
"""

from seedcore.pyinfra_seam import before_exit, count_as_failed, is_change, on_confirm, planned_ops
from seedcore.run_context import run_of

CONFIRM_CHANGES = "Detected changes displayed above"


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


def settle(state) -> None:
    """Register, once per run, the run's answer to pyinfra's confirmation and its exit step."""
    on_confirm(state, lambda message: _confirm(state, message))
    before_exit(state, lambda: _count_red(state))
