"""Pull, then stop / clean / start one host's Ray node, in cluster order.

Every host calls every operation below (one for the other role is a no-op),
so pyinfra sees one chain and runs each step on every host before the next:
workers stop before the head, the head is healthy before any worker starts.
"""


from pyinfra.api import deploy

from seedcore.commands import COMPOSE_V1, COMPOSE_V2
from seedcore.defaults import RAY_DEFAULTS
from seedcore.operations import ray
from seedcore.ports import port_keys
from seedcore.run_context import run_of
from seedcore.topology import Node


def compose_default(settings: dict) -> str:
    """The Compose CLI a host will have once Docker is installed (for --dry)."""
    return COMPOSE_V2 if settings["docker_install_source"] == "docker" else COMPOSE_V1


@deploy("Pull the Ray image", data_defaults=RAY_DEFAULTS)
def pull_image(node: Node):
    # Two call sites, so pyinfra lists GPU and CPU hosts under their own image.
    bounds = {"timeout_s": node.settings["ray_pull_timeout_s"], "tries": node.settings["ray_pull_tries"]}
    if node.gpus:
        ray.image_pulled(name=f"Pull {node.image}", image=node.image, **bounds)
    else:
        ray.image_pulled(name=f"Pull {node.image}", image=node.image, **bounds)


def archive_dir_for(state, settings: dict) -> str:
    """One archive folder per run, the same on every host (a deploy file runs once per host)."""
    return f"{settings['ray_project_dir']}/archive/{run_of(state).stamp}"


@deploy("Archive what is about to be removed", data_defaults=RAY_DEFAULTS)
def archive_broken_node(node: Node, config_hash: str, archive_dir: str, head_name: str = "",
                        head_hash: str = ""):
    ray.broken_node_archived(
        name="Archive the logs of containers about to be removed or recreated",
        node=node, config_hash=config_hash, archive_dir=archive_dir,
        head_host=(head_name if head_hash else None), head_hash=head_hash,
    )


@deploy("Stop, clean and start the Ray node", data_defaults=RAY_DEFAULTS)
def restart_node(node: Node, config_hash: str, head_name: str, head_hash: str):
    """`head_hash` is the head digest workers follow: "" with head fault
    tolerance, where a head restart leaves the workers running."""
    s = node.settings
    cli = compose_default(s)
    ray.node_stopped(name="Stop the Ray worker unless it and its head run the current config",
                     role="worker", node=node, config_hash=config_hash, compose_default=cli,
                     head_host=(head_name if head_hash else None), head_hash=head_hash)
    ray.node_stopped(name="Stop the Ray head unless it runs the current config", role="head",
                     node=node, config_hash=config_hash, compose_default=cli)
    ray.leftovers_removed(name="Remove leftover containers of the project", node=node)
    ray.ports_free(name="Check the node's ports are free before it starts",
                   node=node, ports=[s[key] for key in port_keys(node.role)])
    ray.node_started(name="Start the Ray head", role="head",
                     node=node, config_hash=config_hash, compose_default=cli)
    ray.node_healthy(name="Wait until the Ray head is healthy", role="head",
                     node=node, timeout_s=s["ray_head_start_timeout_s"])
    ray.node_started(name="Start the Ray worker once the head is healthy", role="worker",
                     node=node, config_hash=config_hash, compose_default=cli, after_host=head_name,
                     head_hash=head_hash)
    ray.node_healthy(name="Wait until the Ray worker is healthy", role="worker",
                     node=node, timeout_s=s["ray_head_start_timeout_s"])
