"""What a container actually runs, compared with the rendered node."""

from seedcore import render
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


def test_a_notes_value_with_a_hash_and_quotes_is_compared_as_the_container_got_it():
    """Compose gives the container `a #b "c"` from the compose file's YAML, exactly; the same
    value in an env file would have reached it cut at ` #` (Compose v2) or unquoted."""
    notes = {"RAY_SERVE_ASYNC_DEBUG": 'a #b "c" $d'}
    node = node_from_fixture({"role": "worker", "name": "worker-1", "address": "10.0.0.11",
                              "settings": {"ray_notes_env": notes}})
    # The value goes through YAML, which Compose reads exactly, never through the env file.
    assert "a #b" not in render.env_file(node)
    yaml_value = render.compose_service(node, "")["environment"]["RAY_SERVE_ASYNC_DEBUG"]
    assert yaml_value.replace("$$", "$") == notes["RAY_SERVE_ASYNC_DEBUG"]
    as_compose_gave_it = [f"{k}={v}" for k, v in rendered_env(node).items()]
    assert 'RAY_SERVE_ASYNC_DEBUG=a #b "c" $d' in as_compose_gave_it
    record = {"image": node.image, "command": ray_start_args(node)}
    assert drift({**record, "env": as_compose_gave_it}, node) == []
    cut = [e if not e.startswith("RAY_SERVE_ASYNC_DEBUG=") else "RAY_SERVE_ASYNC_DEBUG=a"
           for e in as_compose_gave_it]
    assert drift({**record, "env": cut}, node) == [
        "env differs from the rendered ray.env and compose file: RAY_SERVE_ASYNC_DEBUG"]
