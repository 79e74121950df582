"""What the deploy means to do on one host, derived from the inventory and,
for GPU hosts, from what nvidia-smi and Compose report."""

from dataclasses import dataclass

from seedcore.facts.docker import ComposeCli, ComposeVersion
from seedcore.facts.gpu import NvidiaGpus
from seedcore.gpu import compose_gpu_mode
from seedcore.hostfacts import read_fact
from seedcore.render import config_hash
from seedcore.topology import Node, head_host, is_gpu_host, node_for, worker_hosts


@dataclass(frozen=True)
class Plan:
    node: Node
    config_hash: str
    head_name: str
    head_hash: str
    expected_nodes: int
    all_hosts: list[str]
    # With head fault tolerance (a GCS store) workers do not follow a head
    # restart: they reconnect to it. Then "", else the head's digest.
    follow_head_hash: str = ""


def gpu_layout(host) -> tuple[int, str]:
    """(GPUs Ray is told about, how Compose requests them) for one host."""
    if not is_gpu_host(host):
        return 0, "devices"
    pinned = host.data.get("gpu_count") or 0
    gpus = pinned or read_fact(host, NvidiaGpus)["count"]
    mode = compose_gpu_mode(read_fact(host, ComposeCli), read_fact(host, ComposeVersion))
    return gpus, mode


def plan_for(host, inventory) -> Plan:
    head = head_host(inventory)
    node = node_for(host, inventory, *gpu_layout(host))
    head_node = node if head is host else node_for(head, inventory, *gpu_layout(head))
    head_hash = config_hash(head_node)
    follow = "" if node.gcs_store else head_hash
    node_hash = head_hash if node.role == "head" else config_hash(node, follow)
    members = [head, *worker_hosts(inventory)]
    return Plan(
        node=node,
        config_hash=node_hash,
        head_name=head.name,
        head_hash=head_hash,
        expected_nodes=len(members),
        all_hosts=[member.name for member in members],
        follow_head_hash=follow,
    )
