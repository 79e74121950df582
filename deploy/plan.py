"""What the deploy means to do on one host, derived from the inventory alone."""

from dataclasses import dataclass

from deploy.render import config_hash
from deploy.topology import Node, head_host, node_for, worker_hosts


@dataclass(frozen=True)
class Plan:
    node: Node
    config_hash: str
    head_name: str
    expected_nodes: int
    all_hosts: list[str]


def plan_for(host, inventory) -> Plan:
    head = head_host(inventory)
    node = node_for(host, inventory)
    head_hash = config_hash(node_for(head, inventory))
    node_hash = head_hash if node.role == "head" else config_hash(node, head_hash)
    members = [head, *worker_hosts(inventory)]
    return Plan(
        node=node,
        config_hash=node_hash,
        head_name=head.name,
        expected_nodes=len(members),
        all_hosts=[member.name for member in members],
    )
