"""The run's CommandTally against pyinfra itself: operations run on `@fake`
hosts in-process, counted as pyinfra reports them finishing."""

from pyinfra.api import Config, Inventory, State
from pyinfra.api.connect import connect_all
from pyinfra.api.operation import add_op
from pyinfra.api.operations import run_ops
from pyinfra.operations import python, server

from seedcore import hostfacts


def _scanned(state, host=None) -> int:
    """What the tally stands for: every operation whose result is set and which ran commands."""
    by_host = [state.ops[host]] if host is not None else state.ops.values()
    return sum(1 for ops in by_host for data in ops.values()
               if data.operation_meta.is_complete() and data.operation_meta.executed)


def test_the_tally_counts_what_pyinfra_ran_while_and_after_it_runs():
    inventory = Inventory((["@fake/head-1", "@fake/worker-1"], {"fake_delay": 0, "fake_delay_jitter": 0}))
    state = State(inventory, Config())
    connect_all(state)
    assert hostfacts.commands_run(state) == 0  # planning; the tally is registered
    seen = []

    def look(state, host):
        seen.append((host.name, hostfacts.commands_run(state), hostfacts.commands_run(state, host),
                     _scanned(state), _scanned(state, host)))

    add_op(state, server.shell, name="Run a command", commands=["true"])
    add_op(state, python.call, name="Look at the tally", function=look)
    add_op(state, server.shell, name="Run nothing", commands=[])
    run_ops(state)

    # While the second operation runs on a host, the tally says what a scan of
    # every operation says: the first operation ran on both hosts (the other
    # host's call may have finished already), once on this one.
    assert sorted(name for name, *_ in seen) == ["@fake/head-1", "@fake/worker-1"]
    for _, total, own, scanned_total, scanned_own in seen:
        assert (total, own) == (scanned_total, scanned_own)
        assert own == 1 and total in (2, 3)
    # After the run: the command, the call (a Python command), not the empty operation.
    assert hostfacts.commands_run(state) == _scanned(state) == 4
    for host in inventory:
        assert hostfacts.commands_run(state, host) == _scanned(state, host) == 2
