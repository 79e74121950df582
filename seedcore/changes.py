"""The one way a step acts because an earlier step changed the host: pyinfra's
own `_if=` on the earlier operations' results (OperationMeta), as pyinfra's
"Operation meta & conditional execution" describes it.

    config = files.put(name="Write prometheus.yml", ...)
    if changed := after_change(config):
        systemd.service(name="Restart Prometheus because its config changed", service="prometheus",
                        restarted=True, _if=changed)

`after_change` returns None when none of the earlier steps will change the
host, as pyinfra plans them from the host's facts: the step is then not called,
so `--dry` on a converged host lists no restart. Otherwise it returns the
`_if=` conditions: once the run executes, the step runs only if one of them did
change the host, and `--dry` lists it under "Conditional Change".
tests/unit/test_changes.py refuses any other form (a decision taken from the
files' digests while planning, an operation that branches on
`state.is_executing`, `did_change()` called inside an operation).
"""

from collections.abc import Callable

from pyinfra.operations.util import any_changed


def _will_change(step) -> bool:
    # A step called while the run executes has already run (pyinfra executes it at once).
    return step.did_change() if step.is_complete() else step.will_change


def after_change(*steps, unless: tuple = ()) -> Callable[[], bool] | None:
    """The `_if=` of a step that acts only when one of `steps` changed the host;
    None when, as planned, none of them will, or one of `unless` will (a step
    that does more, such as a restart in place of a reload, is called then)."""
    if not any(_will_change(step) for step in steps) or any(_will_change(step) for step in unless):
        return None
    return any_changed(*steps)
