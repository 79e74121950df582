"""Every command line the deploys build parses in /bin/sh, the shell pyinfra runs them in."""

import subprocess

import pytest

from seedcore import commands
from tests.harness import make_node

WORKER = make_node(role="worker", address="10.0.0.11", head_address="10.0.0.10")
HEAD = make_node(role="head")

BUILT = {
    "compose_up_v1": commands.compose_up(commands.COMPOSE_V1, HEAD),
    "compose_down_v2": commands.compose_down(commands.COMPOSE_V2, WORKER),
    "remove_labelled": commands.remove_labelled_containers("com.docker.compose.project", "seedcore"),
    "pull": commands.pull("registry:5000/seedcore/ray:2.20.0"),
    "wait_healthy": commands.wait_healthy("seedcore-ray-head", 30),
    "ports_free": commands.ports_free([8080, 8265]),
    "serve_deploy": commands.serve_deploy("seedcore-ray-head", "/srv/seedcore/serve/serve.yaml",
                                          "/opt/seedcore/.serve-deployed", "abc 123"),
    "refuse": commands.refuse("not starting it: the head's (x) failed"),
    "archive": commands.archive_containers(["seedcore-ray-worker", "old one"], "/opt/seedcore/archive/1"),
    "drain": commands.drain_worker("seedcore-ray-worker", "10.0.0.10:6379", 30),
    "route_check": commands.serve_route_check("seedcore-ray-head",
                                              "/srv/seedcore/serve/seedcore_route_check.py",
                                              8000, "/health", 90),
}


@pytest.mark.parametrize("name", sorted(BUILT))
def test_command_parses_in_sh(name):
    result = subprocess.run(["sh", "-n", "-c", BUILT[name]], capture_output=True, text=True)
    assert result.returncode == 0, f"{name}: {result.stderr}\n{BUILT[name]}"
