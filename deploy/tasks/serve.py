"""Ray Serve applications, deployed declaratively from the head."""

import hashlib

from pyinfra.api import deploy

from deploy import render
from deploy.defaults import SERVE_DEFAULTS
from deploy.operations import ray
from deploy.topology import Node

MARKER = ".serve-deployed"


@deploy("Deploy the Serve applications", data_defaults=SERVE_DEFAULTS)
def deploy_serve(node: Node, head_hash: str = ""):
    if node.role != "head":
        return
    config = render.serve_config(node.settings)
    digest = hashlib.sha256(config.encode()).hexdigest()[:16]
    ray.serve_deployed(
        name="Deploy the Serve config when it changed or the head restarted",
        node=node,
        config_path=f"{render.CONTAINER_SERVE_DIR}/{render.SERVE_CONFIG}",
        config_digest=digest,
        marker_path=f"{node.settings['ray_project_dir']}/{MARKER}",
        head_hash=head_hash,
    )
