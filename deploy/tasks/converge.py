"""The sequence cluster.py and rebuild.py share, on one host."""

from pyinfra import host

from deploy.plan import Plan
from deploy.tasks.compose import render_project
from deploy.tasks.docker import install_docker
from deploy.tasks.gpu import install_nvidia_runtime
from deploy.tasks.lifecycle import archive_broken_node, pull_image, restart_node
from deploy.tasks.serve import deploy_serve
from deploy.tasks.verify import verify_node
from deploy.topology import is_gpu_host


def converge(plan: Plan, archive_dir: str | None = None) -> None:
    """Docker, files, image, node, Serve, verify. With `archive_dir`, what is
    about to be removed is archived there first."""
    gpu = is_gpu_host(host)
    install_docker(gpu=gpu)
    if gpu:
        install_nvidia_runtime(plan.node.settings)
    if archive_dir:
        archive_broken_node(plan.node, plan.config_hash, archive_dir)
    render_project(plan.node, plan.config_hash)
    pull_image(plan.node)
    restart_node(plan.node, plan.config_hash, plan.head_name, plan.head_hash)
    deploy_serve(plan.node, plan.head_hash)
    verify_node(plan.node, plan.expected_nodes, plan.all_hosts)
