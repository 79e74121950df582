"""The outsider: a container on the lab network, in no inventory, at a fixed
address, running the lab's Ray image (python, ray[client], requests) pulled
from the lab's registry. The firewall tests try every way into the cluster
from it. Labelled like every lab object, so `lab down` removes it."""

import shlex
import subprocess

from lab import docker, log
from lab.config import LABEL, NETWORK, OUTSIDER_NAME, ROLE_LABEL, outsider_ip
from lab.errors import LabError
from lab.registry import push_address

PULL_TIMEOUT = 600


def image_of(state: dict) -> str:
    """The hosts' Ray image, as the outer engine pulls it (the registry's loopback address)."""
    return state["ray_image"].replace(state["registry"]["address"], push_address(), 1)


def ensure(state: dict) -> str:
    """Start the outsider unless it is running; return its address."""
    current = docker.inspect("container", OUTSIDER_NAME)
    if current is not None:
        if docker.labels_of(current).get(LABEL) != "1":
            raise LabError(f"a container named {OUTSIDER_NAME} exists that the lab did not create")
        if current["State"]["Running"]:
            return outsider_ip()
        docker.run("container", "rm", "--force", OUTSIDER_NAME)
    image = image_of(state)
    log.step(f"starting the outsider {OUTSIDER_NAME} at {outsider_ip()} (in no inventory)")
    docker.run("pull", image, timeout=PULL_TIMEOUT)
    docker.run(
        "run", "--detach", "--name", OUTSIDER_NAME, "--hostname", OUTSIDER_NAME,
        *docker.label_args(), "--label", f"{ROLE_LABEL}=outsider",
        "--network", NETWORK, "--ip", outsider_ip(), "--entrypoint", "sleep", image, "infinity",
    )
    return outsider_ip()


def run(argv: list[str], timeout: float = 60, input: str | None = None) -> subprocess.CompletedProcess:
    """Run a command inside the outsider, `input` on its stdin (never raises on its exit status)."""
    return docker.exec_in(OUTSIDER_NAME, shlex.join(argv), input=input, timeout=timeout)
