"""What a container actually runs, compared with the rendered node."""

from seedcore.commands import ray_start_args
from seedcore.operations.ray import drift, rendered_env
from tests.harness import node_from_fixture

NODE = node_from_fixture({"role": "worker", "name": "worker-1", "address": "10.0.0.11"})


def running(**changes) -> dict:
    record = {
        "image": NODE.image,
        "command": ray_start_args(NODE),
        "env": [f"{k}={v}" for k, v in rendered_env(NODE).items()] + ["PATH=/usr/bin"],
    }
    return record | changes


def test_what_was_rendered_has_no_drift():
    assert drift(running(), NODE) == []


def test_each_hand_change_is_named_and_env_values_are_not():
    env = [e if not e.startswith("RAY_ADDRESS=") else "RAY_ADDRESS=10.9.9.9:6379" for e in running()["env"]]
    assert drift(running(env=env, image="registry.example.com/seedcore/ray:hotfix",
                         command=["ray", "start", "--block"]), NODE) == [
        f"runs image registry.example.com/seedcore/ray:hotfix, not {NODE.image}",
        "runs another command than the rendered `ray start`",
        "env differs from the rendered ray.env and compose file: RAY_ADDRESS",
    ]
