"""Ray Serve applications, deployed declaratively from the head."""

from pyinfra.api import deploy

from seedcore import render
from seedcore.defaults import SERVE_DEFAULTS
from seedcore.operations import ray
from seedcore.topology import Node

MARKER = ".serve-deployed"
ROUTE_TIMEOUT_S = 90


def marker_path(settings: dict) -> str:
    """Where the head records the Serve config it last deployed."""
    return f"{settings['ray_project_dir']}/{MARKER}"


@deploy("Deploy the Serve applications", data_defaults=SERVE_DEFAULTS)
def deploy_serve(node: Node, head_hash: str = ""):
    if node.role != "head":
        return
    decision = {
        "node": node,
        "config_digest": render.serve_config_digest(node.settings, node.cluster_size),
        "marker_path": marker_path(node.settings),
        "head_hash": head_hash,
    }
    deployed = ray.serve_deployed(
        name="Deploy the Serve config when it changed or the head restarted",
        config_path=render.container_serve_config(),
        **decision,
    )
    ray.serve_route_answers(
        name="Wait until Serve answers the health route through the head's proxy",
        route_check_path=f"{render.CONTAINER_SERVE_DIR}/{render.ROUTE_CHECK}",
        timeout_s=ROUTE_TIMEOUT_S,
        changes=[deployed],
        **decision,
    )
