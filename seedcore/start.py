"""How every run starts, in one place: watch the run, check the inventory and
the hosts, then take the deploy lock on the head.

An entry point names its kind and calls `start_run`; the order lives here.

| kind     | checks                                   | lock |
|----------|------------------------------------------|------|
| converge | preflight (facts of every host)          | yes  |
| rebuild  | preflight, a stopped Docker allowed      | yes  |
| rollout  | preflight, then the staging-before-prod gate | yes |
| verify   | the inventory's data only (changes nothing) | no |
"""

from dataclasses import dataclass
from enum import Enum

from pyinfra import host

from seedcore.lock import hold_lock
from seedcore.outcome import check_problem, settle
from seedcore.pyinfra_seam import dry_run
from seedcore.release import gate_problem, release_digest
from seedcore.run_context import RunContext, run_of
from seedcore.runwatch import watch
from seedcore.tasks.preflight import run_preflight
from seedcore.topology import settings_for
from seedcore.validate import InventoryError, check_inventory, inventory_name


class Kind(Enum):
    CONVERGE = "converge"
    REBUILD = "rebuild"
    ROLLOUT = "rollout"
    VERIFY = "verify"


@dataclass(frozen=True)
class Steps:
    preflight: bool
    allow_docker_down: bool = False
    release_gate: bool = False
    lock: bool = True


STEPS = {
    Kind.CONVERGE: Steps(preflight=True),
    Kind.REBUILD: Steps(preflight=True, allow_docker_down=True),
    Kind.ROLLOUT: Steps(preflight=True, release_gate=True),
    Kind.VERIFY: Steps(preflight=False, lock=False),
}


def release_gate(inventory) -> None:
    """A prod rollout of a release no staging rollout verified is refused."""
    digest, _ = release_digest(inventory)
    problem = gate_problem(settings_for(host), digest)
    if problem:
        raise InventoryError(f"{inventory_name()}: {problem}; nothing was changed")


def start_run(state, kind: Kind) -> RunContext:
    """Start this host's part of a run of `kind` (pyinfra loads the entry point
    once per host; each step below is done once per run and the other hosts
    wait for its outcome). Raises before any host changes when a check refuses."""
    run = run_of(state)
    run.kind = kind.value
    steps = STEPS[kind]
    watch(state)
    settle(state)
    refused = check_problem(dry=dry_run())
    if refused:
        raise InventoryError(f"{inventory_name()}: {refused}")
    if steps.preflight:
        run_preflight(state, allow_docker_down=steps.allow_docker_down)
    else:
        problems = check_inventory(state.inventory)
        if problems:
            raise InventoryError("the inventory is not valid:\n  " + "\n  ".join(problems))
    if steps.release_gate:
        release_gate(state.inventory)
    if steps.lock:
        hold_lock(state)
    return run
