"""What a container actually runs, compared with the rendered node."""

from seedcore import render
from seedcore.commands import ray_start_args
from seedcore.operations.ray import drift, rendered_env, wanted_mounts
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


def inspected(**changes) -> dict:
    """A container record as the ProjectContainers fact gives it, with its image's own record."""
    labels = render.compose_service(NODE, "hash")["labels"] | {
        "com.docker.compose.project": "seedcore", "org.opencontainers.image.title": "ray"}
    record = running(
        env=running()["env"] + ["LANG=C.UTF-8"], labels=labels,
        mounts=sorted(wanted_mounts(NODE)), network_mode="host",
        restart_policy=NODE.settings["ray_restart_policy"], privileged=False, cap_add=[], devices=[],
        image_env=["LANG", "PATH"], image_labels=["org.opencontainers.image.title"], image_volumes=[],
    )
    return record | changes


def test_what_the_image_and_compose_give_is_not_drift():
    assert drift(inspected(), NODE) == []


def test_each_addition_by_hand_is_named_without_its_value():
    record = inspected()
    added = inspected(
        env=record["env"] + ["DEBUG_TOKEN=s3cret-value"],
        mounts=record["mounts"] + ["/srv/scratch:/scratch"],
        labels=record["labels"] | {"com.centurylinklabs.watchtower.enable": "true"},
        restart_policy="always", network_mode="bridge", privileged=True,
        cap_add=["SYS_ADMIN"], devices=["/dev/fuse"],
    )
    found = drift(added, NODE)
    assert found == [
        "env has variables the render does not give: DEBUG_TOKEN",
        "has mounts the render does not give: /scratch",
        "runs in network mode bridge, not host",
        f"has restart policy always, not {NODE.settings['ray_restart_policy']}",
        "runs privileged",
        "has added capabilities: SYS_ADMIN",
        "has added devices: /dev/fuse",
        "has labels the render does not give: com.centurylinklabs.watchtower.enable",
    ]
    assert "s3cret-value" not in " ".join(found)


def test_a_rendered_mount_taken_away_or_pointed_elsewhere_is_named():
    record = inspected()
    serve = next(m for m in record["mounts"] if m.endswith(f":{render.CONTAINER_SERVE_DIR}"))
    assert drift(inspected(mounts=[m for m in record["mounts"] if m != serve]), NODE) == [
        f"lacks the rendered mounts: {render.CONTAINER_SERVE_DIR}"]
    elsewhere = [m if m != serve else f"/tmp/other:{render.CONTAINER_SERVE_DIR}" for m in record["mounts"]]
    assert drift(inspected(mounts=elsewhere), NODE) == [
        f"has mounts the render does not give: {render.CONTAINER_SERVE_DIR}",
        f"lacks the rendered mounts: {render.CONTAINER_SERVE_DIR}"]


def test_without_the_images_record_its_own_env_labels_and_volumes_are_not_called_drift():
    record = inspected()
    for key in ("image_env", "image_labels", "image_volumes"):
        record.pop(key)
    record["mounts"] = record["mounts"] + ["4f2a:/var/lib/docker-registry"]
    assert drift(record, NODE) == []
