"""Staging rollout, then prod: `pyinfra inventories/staging.py deploy/rollout.py`.

Workers are updated in batches of `rollout_batch_size`: pull, drain, restart,
wait until ALIVE and green, then the next batch; the first failed batch stops
the rollout and later batches keep their version. A change the head must
restart for (Ray version, head image or env) is announced and done as one
full, ordered restart instead; with the GCS store (head fault tolerance) the
head restarts alone and the workers reconnect to it. With `rollout_stage: "prod"` a release that no
staging rollout has verified is refused before anything changes.
"""

from pyinfra import host, inventory, state

from seedcore.plan import plan_for
from seedcore.release import release_digest
from seedcore.start import Kind, start_run
from seedcore.tasks.compose import render_project
from seedcore.tasks.docker import install_docker
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
    worker_batches,
)
from seedcore.tasks.serve import deploy_serve
from seedcore.tasks.verify import verify_node
from seedcore.topology import is_gpu_host, role_of
from seedcore.validate import inventory_name

start_run(state, Kind.ROLLOUT)
plan = plan_for(host, inventory)
settings = plan.node.settings
digest, releases = release_digest(inventory)


def roll_out() -> None:
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
        archive_broken_node(plan.node, plan.config_hash, archive_dir_for(state, settings),
                            plan.head_name, plan.head_hash)
        render_project(plan.node, plan.config_hash)
        pull_image(plan.node)
        restart_node(plan.node, plan.config_hash, plan.head_name, plan.head_hash)
        return
    if head_changes:
        announce_once(state, (
            "The head's config or version changed; with the GCS store the head restarts alone "
            "and the workers reconnect to it, then workers roll batch by batch."
        ))
        if plan.node.role == "head":
            archive_broken_node(plan.node, plan.config_hash, archive_dir_for(state, settings))
            render_project(plan.node, plan.config_hash)
            pull_image(plan.node)
        restart_head_alone(plan)
    elif plan.node.role == "head":
        render_project(plan.node, plan.config_hash)
    batches = worker_batches(inventory, settings["rollout_batch_size"])
    for index in host.loop(range(len(batches))):
        in_batch = host.name in batches[index]
        if in_batch:
            archive_broken_node(plan.node, plan.config_hash, archive_dir_for(state, settings))
            render_project(plan.node, plan.config_hash)
            pull_image(plan.node)
        skip = "" if in_batch else f"not in batch {index + 1} of {len(batches)}"
        roll_batch(plan, skip)


if role_of(host) == "store":
    install_gcs_store(inventory)
elif role_of(host) != "monitoring":
    roll_out()
    deploy_serve(plan.node, plan.head_hash)
    verify_node(plan.node, plan.expected_nodes, plan.all_hosts)
    if settings["rollout_stage"] == "staging" and plan.node.role == "head":
        record_release(settings, digest, releases, inventory_name())
# Prometheus follows the release (its targets and the head's dashboards).
watch_cluster(inventory)
