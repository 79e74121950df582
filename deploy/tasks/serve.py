"""Ray Serve applications, deployed declaratively from the head."""

from pyinfra.api import deploy
from pyinfra.operations import server

from deploy import commands, render
from deploy.defaults import SERVE_DEFAULTS
from deploy.operations import ray
from deploy.topology import Node

MARKER = ".serve-deployed"


@deploy("Deploy the Serve applications", data_defaults=SERVE_DEFAULTS)
def deploy_serve(node: Node, head_hash: str = ""):
    if node.role != "head":
        return
    deployed = ray.serve_deployed(
        name="Deploy the Serve config when it changed or the head restarted",
        node=node,
        config_path=f"{render.CONTAINER_SERVE_DIR}/{render.SERVE_CONFIG}",
        config_digest=render.serve_config_digest(node.settings, node.cluster_size),
        marker_path=f"{node.settings['ray_project_dir']}/{MARKER}",
        head_hash=head_hash,
    )
    server.shell(
        name="Wait until Serve answers the health route through the head's proxy",
        commands=[commands.serve_route_check(
            node.container, f"{render.CONTAINER_SERVE_DIR}/{render.ROUTE_CHECK}",
            node.settings["serve_http_port"], node.settings["serve_health_route"], 90,
        )],
        _if=deployed.did_change,
    )
