"""A rolling restart of the workers, batch by batch, and the promotion gate.

Every host calls every batch's operations (those outside the batch pass with a
no-op), so pyinfra runs batch 1 on its hosts, then batch 2, and so on. A host
that fails (a pull, a restart, its checks) stops every later batch.
"""

import time

from pyinfra import logger
from pyinfra.api import deploy
from pyinfra.context import ctx_host
from pyinfra.operations import python

from seedcore import checks
from seedcore.defaults import ROLLOUT_DEFAULTS
from seedcore.hostfacts import project_containers
from seedcore.operations import ray, rollout
from seedcore.operations.ray import failed_during_run, is_current
from seedcore.outcome import red_hosts
from seedcore.plan import Plan, gpu_layout
from seedcore.ports import port_keys
from seedcore.reach import through
from seedcore.release import write_record
from seedcore.run_context import run_of
from seedcore.tasks.lifecycle import compose_default
from seedcore.tasks.verify import node_container_problem
from seedcore.topology import Node, head_host, node_for, settings_for, worker_hosts


class BatchNotGreen(Exception):
    """A restarted worker did not come back ALIVE and green in time."""


def worker_batches(inventory, size: int) -> list[list[str]]:
    names = [h.name for h in worker_hosts(inventory)]
    return [names[i:i + size] for i in range(0, len(names), max(1, size))]


def head_needs_restart(inventory, head_plan_hash: str) -> bool:
    """Whether the head runs anything but its current config (Ray version,
    image, env...): such a change is not taken node by node."""
    head = head_host(inventory)
    settings = settings_for(head)
    containers = project_containers(head, settings)
    name = settings["ray_head_container"]
    container = next((c for c in containers if c["name"] == name), None)
    return not is_current(container, head_plan_hash, node_for(head, inventory, *gpu_layout(head)))


def rollout_going_on() -> bool:
    """For `_if=`: no host failed since the rollout began (a failed batch stops it, and
    the batches after it keep their files, image and containers)."""
    return not failed_during_run()


def announce_once(state, message: str) -> None:
    run = run_of(state)
    if not run.announced:
        run.announced = True
        logger.warning(message)


def check_worker_green(node: Node, on_host=None) -> None:
    """Poll the restarted worker until it is ALIVE at the head and serves its
    metrics, up to rollout_batch_timeout_s; red at once when its container
    exited or is gone (`on_host`, the worker's host, defaults to the running
    operation's). Raises BatchNotGreen when red."""
    s = node.settings
    # The Host itself, not pyinfra's `host` (which names the host of the greenlet
    # it is read in): the checks below run side by side in greenlets of their own.
    on_host = on_host or ctx_host.get()
    deadline = time.monotonic() + s["rollout_batch_timeout_s"]
    reach = through(on_host)

    # Both checks turning red together read the worker's container once.
    doomed = checks.shared(lambda: node_container_problem(on_host, node))
    results = checks.poll_all(node.name, [
        ("node alive", checks.probe_node_alive(
            reach, node.head_address, s["ray_dashboard_port"], node.address), doomed),
        ("metrics", checks.probe_metrics(reach, node.address, s["ray_metrics_export_port"]), doomed),
    ], deadline)
    red = [r for r in results if not r.ok]
    if red:
        raise BatchNotGreen(
            f"host {node.name} is not green after its restart: "
            + "; ".join(f"{r.check}: {r.detail}" for r in red)
            + ". The rollout stops here; later batches keep their version."
        )
    print(f"    [{node.name}] back: " + "; ".join(r.detail for r in results))


@deploy("Restart the head alone", data_defaults=ROLLOUT_DEFAULTS)
def restart_head_alone(plan: Plan):
    """With the GCS store, a head that is not current restarts by itself: the
    workers keep running and reconnect to it (within ray_gcs_reconnect_timeout_s)."""
    node, s = plan.node, plan.node.settings
    skip = "" if node.role == "head" else "not the Ray head"
    ray.node_stopped(name="Stop the Ray head unless it runs the current config", role="head",
                     node=node, config_hash=plan.config_hash, compose_default=compose_default(s))
    ray.leftovers_removed(name="Remove the head's leftover containers", node=node, skip_reason=skip)
    if node.role == "head":
        ray.ports_free(name="Check the head's ports are free before it starts",
                       node=node, ports=[s[key] for key in port_keys("head")])
    ray.node_started(name="Start the Ray head", role="head", node=node, config_hash=plan.config_hash,
                     compose_default=compose_default(s))
    ray.node_healthy(name="Wait until the Ray head is healthy", role="head", node=node,
                     timeout_s=s["ray_head_start_timeout_s"])


@deploy("Roll one batch of workers", data_defaults=ROLLOUT_DEFAULTS)
def roll_batch(plan: Plan, skip_reason: str):
    node, s = plan.node, plan.node.settings
    rollout.worker_drained(name="Drain the worker before its restart", node=node,
                           config_hash=plan.config_hash, deadline_s=s["rollout_drain_deadline_s"],
                           skip_reason=skip_reason)
    ray.node_stopped(name="Stop the worker", node=node, config_hash=plan.config_hash,
                     skip_reason=skip_reason)
    ray.leftovers_removed(name="Remove the worker's leftover containers", node=node,
                          skip_reason=skip_reason)
    ray.node_started(name="Start the worker on the new version", node=node,
                     config_hash=plan.config_hash, skip_reason=skip_reason)
    ray.node_healthy(name="Wait until the worker is healthy", node=node,
                     timeout_s=s["ray_head_start_timeout_s"], skip_reason=skip_reason)
    rollout.batch_green(name="Check the worker is ALIVE and green before the next batch",
                        node=node, check=check_worker_green, skip_reason=skip_reason)


def _record(state, host, settings: dict, digest: str, releases: list[dict], inventory_name: str):
    # A host red in this run's verify stays in the run but is no release to record.
    failed = sorted({*failed_during_run(), *red_hosts(state)})
    if failed:
        print(f"\n--> Not recording release {digest}: {', '.join(failed)} failed in this run\n")
        return
    path = write_record(settings, digest, releases, inventory_name)
    print(f"\n--> Release {digest} verified on {inventory_name}; recorded in {path} (commit it)\n")


@deploy("Record the verified release", data_defaults=ROLLOUT_DEFAULTS)
def record_release(settings: dict, digest: str, releases: list[dict], inventory_name: str):
    python.call(name="Record what this staging rollout verified, for prod's gate",
                function=_record, settings=settings, digest=digest, releases=releases,
                inventory_name=inventory_name)
