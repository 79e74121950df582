"""The lab's bridge network, on a fixed subnet so addresses survive recreation."""

from lab import docker, log
from lab.config import LABEL, NETWORK, SUBNET, gateway_ip
from lab.errors import LabError


def _subnet_of(network: dict) -> str:
    configs = (network.get("IPAM") or {}).get("Config") or []
    return configs[0].get("Subnet", "") if configs else ""


def ensure() -> None:
    """Create the network unless the lab's own, with the right subnet, is there."""
    existing = docker.inspect("network", NETWORK)
    if existing is not None:
        if docker.labels_of(existing).get(LABEL) != "1":
            raise LabError(f"a network named {NETWORK} exists that the lab did not create: remove it")
        if _subnet_of(existing) == str(SUBNET):
            return
        if existing.get("Containers"):
            raise LabError(
                f"network {NETWORK} uses {_subnet_of(existing)}, not {SUBNET}: run `python -m lab down` first"
            )
        docker.run("network", "rm", NETWORK)
    log.step(f"creating network {NETWORK} ({SUBNET})")
    result = docker.run(
        "network",
        "create",
        "--driver",
        "bridge",
        "--subnet",
        str(SUBNET),
        "--gateway",
        gateway_ip(),
        *docker.label_args(),
        NETWORK,
        check=False,
    )
    if result.returncode != 0:
        if "overlap" in result.stderr:
            raise LabError(f"subnet {SUBNET} is taken on this engine: set SEEDCORE_LAB_SUBNET to a free /24")
        raise LabError(f"creating network {NETWORK} failed: {result.stderr.strip()}")


def remove() -> None:
    for name in docker.lab_objects("network"):
        docker.run("network", "rm", name)
