"""A deploy file for tests/cli/test_secret_output.py: preflight, the node's
files (the env file among them) and the registry login, as deploy/cluster.py
runs them, without the rest of the cluster (nothing here waits on a node)."""

from pyinfra import host, inventory, state

from seedcore.operations import docker
from seedcore.plan import plan_for
from seedcore.tasks.compose import render_project
from seedcore.tasks.preflight import run_preflight

run_preflight(state)
plan = plan_for(host, inventory)
render_project(plan.node, plan.config_hash)
settings = plan.node.settings
docker.registry_logged_in(
    name=f"Log Docker in to {settings['docker_registry_login']}",
    registry=settings["docker_registry_login"],
    user=settings["docker_registry_user"],
    password_env=settings["docker_registry_password_env"],
)
