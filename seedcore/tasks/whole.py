"""The whole job on one host: for a converge and a disaster rebuild alike, the
firewall first, the web door, then the GCS store or the Ray node, then
monitoring; for a rollout, the workers batch by batch (`whole_rollout`)."""

from seedcore.operations import order
from seedcore.plan import plan_for
from seedcore.release import release_digest
from seedcore.tasks.compose import render_project
from seedcore.tasks.converge import converge
from seedcore.tasks.docker import install_docker
from seedcore.tasks.firewall import install_firewall
from seedcore.tasks.gcs_store import install_gcs_store
from seedcore.tasks.gpu import install_nvidia_runtime
from seedcore.tasks.lifecycle import archive_broken_node, archive_dir_for, pull_image, restart_node
from seedcore.tasks.monitoring import watch_cluster
from seedcore.tasks.rollout import (
    announce_once,
    head_needs_restart,
    record_release,
    restart_head_alone,
    roll_batch,
    rollout_going_on,
    worker_batches,
)
from seedcore.tasks.serve import deploy_serve
from seedcore.tasks.verify import verify_node
from seedcore.tasks.web import install_web_door
from seedcore.topology import is_gpu_host, role_of, settings_for
from seedcore.validate import inventory_name
from seedcore.web import doors

# Why every host passes these points together (seedcore/operations/order.py).
STORE_FIRST = "the GCS store is up before any Ray node starts"
NODES_FIRST = "every Ray node's steps come before Prometheus is checked"


def whole_cluster(host, inventory) -> None:
    # The host firewall first, on every host: no Ray port is ever open to the world.
    if settings_for(host)["firewall_manage"]:
        install_firewall(inventory)
    # The web door (nginx: TLS and a password) on the head and the monitoring host, the one way
    # people reach the dashboard and Prometheus; before the checks that knock on it.
    if doors(host, settings_for(host)):
        install_web_door(inventory)
    # The GCS store host (head fault tolerance) is not a Ray node; its Redis is up
    # before the head starts.
    if role_of(host) == "store":
        install_gcs_store(inventory)
    order.every_host_here(name="Go on once every GCS store is up", reason=STORE_FIRST)
    if role_of(host) not in ("store", "monitoring"):
        converge(plan_for(host, inventory))
    order.every_host_here(name="Go on once every Ray node has converged", reason=NODES_FIRST)
    # Monitoring (optional): Prometheus on the host in group `monitoring` (it may
    # also be a Ray node), once the nodes are up; Ray's Grafana dashboards from the head.
    # A lost monitoring host comes back with its Prometheus, like any other.
    watch_cluster(inventory)


def whole_rollout(host, state, inventory) -> None:
    """Workers in batches of `rollout_batch_size`: pull, drain, restart, wait until ALIVE
    and green, then the next batch; the first failed batch stops the rollout and later
    batches keep their version. A change the head must restart for (Ray version, head
    image or env) is announced and done as one full, ordered restart instead; with the
    GCS store (head fault tolerance) the head restarts alone and the workers reconnect
    to it."""
    plan = plan_for(host, inventory)
    settings = plan.node.settings
    digest, releases = release_digest(inventory)
    if role_of(host) == "store":
        install_gcs_store(inventory)
    order.every_host_here(name="Go on once every GCS store is up", reason=STORE_FIRST)
    if role_of(host) not in ("store", "monitoring"):
        _roll_out(host, state, inventory, plan)
        deploy_serve(plan.node, plan.head_hash)
        verify_node(plan.node, plan.expected_nodes, plan.all_hosts)
        if settings["rollout_stage"] == "staging" and plan.node.role == "head":
            record_release(settings, digest, releases, inventory_name())
    order.every_host_here(name="Go on once every Ray node has rolled out", reason=NODES_FIRST)
    # Prometheus follows the release (its targets and the head's dashboards).
    watch_cluster(inventory)


def _roll_out(host, state, inventory, plan) -> None:
    """The Ray node's part of a rollout: Docker, then the head's restart when its config
    or version changed, then this host's batch."""
    settings = plan.node.settings
    install_docker(gpu=is_gpu_host(host))
    if is_gpu_host(host):
        install_nvidia_runtime(settings)

    head_changes = head_needs_restart(inventory, plan.head_hash)
    if head_changes and not plan.node.gcs_store:
        announce_once(state, (
            "The head's config or version changed: Ray cannot take that node by node, so this "
            "rollout is one full, ordered restart (pull everywhere, stop workers, then the head; "
            "start the head, then the workers)."
        ))
        pull_image(plan.node)
        archive_broken_node(plan.node, plan.config_hash, archive_dir_for(state, settings),
                            plan.head_name, plan.head_hash)
        render_project(plan.node, plan.config_hash)
        restart_node(plan.node, plan.config_hash, plan.head_name, plan.head_hash)
        return
    if head_changes:
        announce_once(state, (
            "The head's config or version changed; with the GCS store the head restarts alone "
            "and the workers reconnect to it, then workers roll batch by batch."
        ))
        if plan.node.role == "head":
            pull_image(plan.node)
            archive_broken_node(plan.node, plan.config_hash, archive_dir_for(state, settings))
            render_project(plan.node, plan.config_hash)
        restart_head_alone(plan)
    elif plan.node.role == "head":
        render_project(plan.node, plan.config_hash)
    batches = worker_batches(inventory, settings["rollout_batch_size"])
    for index in host.loop(range(len(batches))):
        in_batch = host.name in batches[index]
        if in_batch:
            # A batch after a failed one is not touched: no pull, no file naming the new image.
            pull_image(plan.node, _if=rollout_going_on)
            archive_broken_node(plan.node, plan.config_hash, archive_dir_for(state, settings),
                                _if=rollout_going_on)
            render_project(plan.node, plan.config_hash, _if=rollout_going_on)
        skip = "" if in_batch else f"not in batch {index + 1} of {len(batches)}"
        roll_batch(plan, skip)
