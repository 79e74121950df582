"""The whole job: `pyinfra inventories/prod.py deploy/cluster.py`.

Preflight (facts only) -> Docker (and NVIDIA's runtime on GPU hosts) -> compose
files and env -> pull the image
-> stop / clean / start only what is not current, workers after the head ->
Serve -> verify every node.
"""

from pyinfra import host, inventory, state

from deploy.plan import plan_for
from deploy.tasks.compose import render_project
from deploy.tasks.docker import install_docker
from deploy.tasks.gpu import install_nvidia_runtime
from deploy.tasks.lifecycle import pull_image, restart_node
from deploy.tasks.preflight import run_preflight
from deploy.tasks.serve import deploy_serve
from deploy.tasks.verify import verify_node
from deploy.topology import is_gpu_host, settings_for

run_preflight(state)
plan = plan_for(host, inventory)

install_docker(gpu=is_gpu_host(host))
if is_gpu_host(host):
    install_nvidia_runtime(settings_for(host))
render_project(plan.node, plan.config_hash)
pull_image(plan.node)
restart_node(plan.node, plan.config_hash, plan.head_name)
if plan.node.role == "head":
    deploy_serve(plan.node)
verify_node(plan.node, plan.expected_nodes, plan.all_hosts)
