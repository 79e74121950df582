"""Operations of a rolling restart. Each reads facts, decides, and yields
commands or calls ``host.noop``."""

from pyinfra import host
from pyinfra.api import operation
from pyinfra.api.command import FunctionCommand

from seedcore import commands
from seedcore.operations.ray import failed_during_run, is_current, node_container
from seedcore.topology import Node


@operation()
def worker_drained(node: Node, config_hash: str, deadline_s: int, skip_reason: str = ""):
    """
    Drain a worker that is about to restart, where Ray allows it.

    + node: the worker (``seedcore.topology.Node``)
    + config_hash: the digest of the config it should run
    + deadline_s: the deadline given to Ray for the drain
    + skip_reason: when set, do nothing and say why (a host outside this batch)
    """
    if skip_reason:
        host.noop(skip_reason)
        return
    container = node_container(node)
    if container is None or container["status"] != "running":
        host.noop(f"{node.container} is not running")
        return
    if is_current(container, config_hash, node):
        host.noop(f"{node.container} is current")
        return
    if failed_during_run():
        host.noop("the rollout stopped after a failed batch: this host keeps its version")
        return
    yield commands.drain_worker(node.container, node.gcs_address, deadline_s,
                                node.settings["ray_command_timeout_s"])


@operation(is_idempotent=False)
def batch_green(node: Node, check, skip_reason: str = ""):
    """
    Run ``check(node)`` from the control machine: it raises, and so fails the
    host and stops the rollout, if the restarted node does not turn green.

    + node: the worker (``seedcore.topology.Node``)
    + check: a function of the node that raises when it is not green
    + skip_reason: when set, do nothing and say why
    """
    if skip_reason:
        host.noop(skip_reason)
        return
    if failed_during_run():
        host.noop("the rollout stopped after a failed batch")
        return
    yield FunctionCommand(check, (node,), {})
