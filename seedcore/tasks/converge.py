"""The sequence cluster.py and rebuild.py share, on one host."""

from pyinfra import host, state

from seedcore.plan import Plan
from seedcore.tasks.compose import render_project
from seedcore.tasks.docker import install_docker
from seedcore.tasks.gpu import install_nvidia_runtime
from seedcore.tasks.lifecycle import archive_broken_node, archive_dir_for, pull_image, restart_node
from seedcore.tasks.serve import deploy_serve
from seedcore.tasks.verify import verify_node
from seedcore.topology import is_gpu_host


def converge(plan: Plan) -> None:
    """Docker, image, files, node, Serve, verify. The image is pulled before any
    file names it (a host whose pull fails keeps files that name what it runs);
    what is about to be removed or recreated is archived first, on every host."""
    gpu = is_gpu_host(host)
    install_docker(gpu=gpu)
    if gpu:
        install_nvidia_runtime(plan.node.settings)
    pull_image(plan.node)
    archive_broken_node(plan.node, plan.config_hash, archive_dir_for(state, plan.node.settings),
                        plan.head_name, plan.follow_head_hash)
    render_project(plan.node, plan.config_hash)
    restart_node(plan.node, plan.config_hash, plan.head_name, plan.follow_head_hash)
    deploy_serve(plan.node, plan.head_hash)
    verify_node(plan.node, plan.expected_nodes, plan.all_hosts)
