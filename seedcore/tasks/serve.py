"""Ray Serve applications, deployed declaratively from the head."""

from pyinfra.api import deploy
from pyinfra.operations import server

from seedcore import commands, render
from seedcore.changes import after_change
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
    if changed := after_change(deployed):
        server.shell(
            name="Wait until Serve answers the health route through the head's proxy",
            commands=[commands.serve_route_check(
                node.container, f"{render.CONTAINER_SERVE_DIR}/{render.ROUTE_CHECK}",
                node.settings["serve_http_port"], node.settings["serve_health_route"], ROUTE_TIMEOUT_S)],
            _if=changed,
        )
