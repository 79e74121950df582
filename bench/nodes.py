"""The Ray nodes the deploy would render for an inventory, read through pyinfra
itself (group_data included), so the floor uses the deploy's own values.

Read in a child process (`python -m bench.nodes INVENTORY`): importing pyinfra's
CLI patches the interpreter for gevent, which the bench's threads must not get."""

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

from seedcore.topology import Node

REPO = Path(__file__).resolve().parents[1]


def rendered(inventory: str = "inventories/lab.py") -> list[tuple[Node, str]]:
    """(Node, config hash) for every Ray node of `inventory`, the head first."""
    result = subprocess.run([sys.executable, "-m", "bench.nodes", inventory], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"reading {inventory} failed:\n{result.stderr[-2000:]}")
    return [(Node(**fields), digest) for fields, digest in json.loads(result.stdout)]


def _read(inventory: str) -> list[tuple[dict, str]]:
    from pyinfra.api import State
    from pyinfra.context import ctx_inventory, ctx_state
    from pyinfra_cli.inventory import make_inventory

    from seedcore import render
    from seedcore.topology import node_for

    ctx_state.set(State(check_for_changes=False))
    loaded = make_inventory(str(REPO / inventory), cwd=str(REPO))
    ctx_inventory.set(loaded)
    nodes = [node_for(host, loaded) for host in loaded]
    nodes = sorted((node for node in nodes if node.role in ("head", "worker")),
                   key=lambda node: node.role != "head")
    head_hash = render.config_hash(nodes[0]) if nodes and nodes[0].role == "head" else ""
    return [(dataclasses.asdict(node),
             head_hash if node.role == "head" else render.config_hash(node, head_hash))
            for node in nodes]


if __name__ == "__main__":
    print(json.dumps(_read(sys.argv[1])))
