"""Operations on one host's Ray node container. Each reads facts, decides,
and yields commands or calls ``host.noop``; the command lines come from
``seedcore.commands``.
"""

from pyinfra import host, logger
from pyinfra.api import FunctionCommand, StringCommand, operation

from seedcore import commands, render
from seedcore.facts.docker import UNMANAGED, ComposeCli, ImageId
from seedcore.facts.host import FileText
from seedcore.facts.ray import SERVE_MARKER_KEY, StoredServeMarker
from seedcore.hostfacts import project_containers, read_fact
from seedcore.plan import gpu_layout
from seedcore.render import config_hash
from seedcore.run_context import run_of
from seedcore.sudo import sudo_args
from seedcore.topology import Node, head_host, node_for

# Labels Compose puts on every container it makes (project, service, its own digest).
COMPOSE_LABEL_PREFIX = "com.docker.compose."

# Health states that need no restart: "starting" is a container still inside
# its start period, waited on by `head_healthy`.
GOOD_HEALTH = ("healthy", "starting", "")


def compose_cli(default: str = commands.COMPOSE_V2) -> str:
    """The host's Compose CLI, or `default` while Docker is not installed yet."""
    return read_fact(host, ComposeCli) or default


def _containers(node: Node) -> list[dict]:
    return project_containers(host, node.settings)


def node_container(node: Node) -> dict | None:
    return next((c for c in _containers(node) if c["name"] == node.container), None)


def rendered_env(node: Node) -> dict[str, str]:
    """KEY -> value of every variable the rendered env file (and compose) give the container."""
    env = {}
    for line in render.env_file(node).splitlines():
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            env[key] = value
    env.update(render.container_environment(node))
    if node.gpus and node.gpu_mode == "runtime":
        env["NVIDIA_VISIBLE_DEVICES"] = "all"
    return env


def drift(container: dict, node: Node) -> list[str]:
    """How what the container actually runs differs from the rendered node
    (a hand edit, a hand restart, a retagged image, something added by hand),
    read from `docker inspect` rather than from the config-hash label a hand
    restart copies along. Names only, never values: env values may be
    secrets. A field the record lacks is not compared."""
    found = []
    if not container.get("managed", True):
        found.append(UNMANAGED)
    if container["image"] != node.image:
        found.append(f"runs image {container['image']}, not {node.image}")
    if "command" in container and container["command"] != commands.ray_start_args(node):
        found.append("runs another command than the rendered `ray start`")
    if "env" in container:
        found += _env_drift(container, node)
    return found + _host_config_drift(container, node)


def _env_drift(container: dict, node: Node) -> list[str]:
    actual = dict(item.partition("=")[::2] for item in container["env"])
    wanted = rendered_env(node)
    found = []
    changed = sorted(key for key, value in wanted.items() if actual.get(key) != value)
    if changed:
        found.append(f"env differs from the rendered {render.ENV_FILE} and compose file: "
                     f"{', '.join(changed)}")
    if "image_env" in container:
        added = sorted(set(actual) - set(wanted) - set(container["image_env"]))
        if added:
            found.append(f"env has variables the render does not give: {', '.join(added)}")
    return found


def wanted_mounts(node: Node) -> set[str]:
    """source:destination of every bind mount the rendered compose service gives."""
    return {":".join(volume.split(":")[:2]) for volume in render.compose_service(node, "")["volumes"]}


def _host_config_drift(container: dict, node: Node) -> list[str]:
    found = []
    # Without the image's own record, what it declares cannot be told from additions.
    if "mounts" in container and "image_volumes" in container:
        image_volumes = set(container["image_volumes"])
        actual = {m for m in container["mounts"] if m.rpartition(":")[2] not in image_volumes}
        wanted = wanted_mounts(node)
        added = sorted(m.rpartition(":")[2] for m in actual - wanted)
        missing = sorted(m.rpartition(":")[2] for m in wanted - actual)
        if added:
            found.append(f"has mounts the render does not give: {', '.join(added)}")
        if missing:
            found.append(f"lacks the rendered mounts: {', '.join(missing)}")
    if container.get("network_mode", "host") != "host":
        found.append(f"runs in network mode {container['network_mode']}, not host")
    policy = node.settings["ray_restart_policy"]
    if container.get("restart_policy", policy) != policy:
        found.append(f"has restart policy {container['restart_policy'] or 'no'}, not {policy}")
    if container.get("privileged"):
        found.append("runs privileged")
    for field, what in (("cap_add", "added capabilities"), ("devices", "added devices")):
        if container.get(field):
            found.append(f"has {what}: {', '.join(container[field])}")
    if "labels" in container and "image_labels" in container:
        added = sorted(set(container["labels"]) - set(container["image_labels"])
                       - set(render.compose_service(node, "")["labels"]))
        added = [label for label in added if not label.startswith(COMPOSE_LABEL_PREFIX)]
        if added:
            found.append(f"has labels the render does not give: {', '.join(added)}")
    return found


def made_by_hand(container: dict, node: Node) -> bool:
    """Whether the container is outside the node's compose project (a `docker
    run --name` by hand): `compose down` cannot remove it."""
    return container.get("compose_project", node.settings["ray_compose_project"]) != (
        node.settings["ray_compose_project"])


def is_current(container: dict | None, config_hash: str, node: Node | None = None) -> bool:
    """Running, with the wanted config, not unhealthy and, given the node,
    running exactly what was rendered for it."""
    return bool(
        container
        and container["status"] == "running"
        and container["config_hash"] == config_hash
        and container["health"] in GOOD_HEALTH
        and not (node is not None and drift(container, node))
    )


def failed_during_run() -> list[str]:
    """Hosts that failed after the run started (not those unreachable from the start)."""
    state = host.state
    at_start = run_of(state).failed_at_start
    return sorted(h.name for h in state.failed_hosts if h.name not in at_start)


def decide_head(state) -> dict:
    """Decide, once per run and while it is planned, whether the head's own
    container runs its current config, from the head's facts (preflight has
    read them). Kept on the run's state: workers follow that decision instead
    of each reading the head over SSH. Returns {head host name: decision}."""
    run = run_of(state)
    if run.head_current is None:
        head = head_host(state.inventory)
        head_node = node_for(head, state.inventory, *gpu_layout(head))
        container = next((c for c in project_containers(head, head_node.settings)
                          if c["name"] == head_node.container), None)
        digest = config_hash(head_node)
        run.head_current = {head.name: (digest, is_current(container, digest, head_node))}
    return run.head_current


def head_is_current(node: Node, head_host: str, head_hash: str) -> bool:
    """Whether the head's own container runs its current config, as decided
    for this run (`decide_head`)."""
    digest, current = decide_head(host.state)[head_host]
    return current and digest == head_hash


def passes_by(node: Node, role: str | None, skip_reason: str = "") -> bool:
    """Record a no-op when the operation is not for this host: outside a
    rollout batch (`skip_reason`), or for the other role."""
    if skip_reason:
        host.noop(skip_reason)
        return True
    return _other_role(node, role)


def _other_role(node: Node, role: str | None) -> bool:
    """Record a no-op when the operation is for the other role.

    Every host calls every lifecycle operation, so that pyinfra orders them
    as one chain across the cluster (head started and healthy before any
    worker starts); a host of the other role just passes through.
    """
    if role and node.role != role:
        host.noop(f"not a Ray {role}")
        return True
    return False


@operation()
def image_pulled(image: str, timeout_s: int = 1800, tries: int = 3):
    """
    Pull an image unless this host already has it.

    + image: the image reference, with its tag
    + timeout_s: the bound on one try of the pull
    + tries: how many times the pull is tried

    **Example:**

    .. code:: python

        ray.image_pulled(name="Pull the Ray image", image="registry:5000/seedcore/ray:2.20.0")
    """
    if read_fact(host, ImageId, image=image):
        host.noop(f"image {image} is present")
        return
    yield commands.pull(image, timeout_s, tries)


@operation()
def node_stopped(node: Node, config_hash: str, compose_default: str = commands.COMPOSE_V2,
                 role: str | None = None, head_host: str | None = None, head_hash: str = "",
                 skip_reason: str = ""):
    """
    Stop and remove the node's container when it is not current: missing,
    stopped, unhealthy, or running an older config. A current one is kept.
    A container with the node's name made by hand, outside the compose
    project, is removed with ``docker rm -f`` (``compose down`` cannot see it).

    + node: the node (``seedcore.topology.Node``)
    + config_hash: the digest of the config it should run
    + compose_default: the Compose CLI to show while Docker is not installed
    + role: act only on a node of this role ("head" or "worker")
    + head_host, head_hash: for a worker, the head's host and config digest: a
      worker is restarted too when its head is about to be (re)started
    + skip_reason: when set, do nothing and say why (a host outside a rollout batch)
    """
    if passes_by(node, role, skip_reason):
        return
    container = node_container(node)
    if container is None:
        host.noop(f"{node.container} is not running")
        return
    head_restarts = bool(head_host) and not head_is_current(node, head_host, head_hash)
    if is_current(container, config_hash, node) and not head_restarts:
        host.noop(f"{node.container} is current")
        return
    failed = failed_during_run()
    if failed:
        host.noop(
            f"not stopping {node.container}: {', '.join(failed)} failed earlier in this run "
            "(a pull, a check); the running cluster is left as it is"
        )
        return
    if made_by_hand(container, node):
        yield commands.remove_containers([container["id"][:12]])
        return
    yield commands.compose_down(compose_cli(compose_default), node)


@operation()
def leftovers_removed(node: Node, skip_reason: str = ""):
    """
    Remove containers of this project that are not the node's own running
    container (a stale name, a role this host no longer has, an exited one).
    Only containers carrying the project's labels or one of the node names
    (``ray_head_container``, ``ray_worker_container``) are touched.

    + node: the node (``seedcore.topology.Node``)
    + skip_reason: when set, do nothing and say why (a host outside a rollout batch)
    """
    if passes_by(node, None, skip_reason):
        return
    leftovers = [
        c for c in _containers(node)
        if c["name"] != node.container or c["status"] != "running"
    ]
    if not leftovers:
        host.noop("no leftover containers")
        return
    yield commands.remove_containers([c["id"][:12] for c in leftovers])


@operation()
def ports_free(node: Node, ports: list[int]):
    """
    Before a start, fail naming the holder if a port the node needs is taken.
    Nothing to check while the node's own container runs.

    + node: the node (``seedcore.topology.Node``)
    + ports: the TCP ports the node listens on
    """
    container = node_container(node)
    if container is not None and container["status"] == "running":
        host.noop(f"{node.container} holds its ports")
        return
    yield commands.ports_free(ports)


@operation()
def node_started(node: Node, config_hash: str, compose_default: str = commands.COMPOSE_V2,
                 after_host: str | None = None, role: str | None = None, skip_reason: str = "",
                 head_hash: str = ""):
    """
    Start the node's container with ``compose up -d`` unless it is current.

    + node: the node (``seedcore.topology.Node``)
    + config_hash: the digest of the config it should run
    + compose_default: the Compose CLI to show while Docker is not installed
    + after_host: a host that must not have failed (the head, for a worker)
    + role: act only on a node of this role ("head" or "worker")
    + skip_reason: when set, do nothing and say why (a host outside a rollout batch)
    + head_hash: with ``after_host``, the head's config digest: a worker stopped
      because its head restarts is started again (shown by ``--dry`` too)
    """
    if passes_by(node, role, skip_reason):
        return
    container = node_container(node)
    failed = {failed_host.name for failed_host in host.state.failed_hosts}
    head_failed = bool(after_host) and after_host in failed
    head_restarts = (
        bool(after_host and head_hash)
        and not head_failed
        and not head_is_current(node, after_host, head_hash)
    )
    if is_current(container, config_hash, node) and not head_restarts:
        host.noop(f"{node.container} is current")
        return
    if container is not None and container["status"] == "running" and failed_during_run():
        host.noop(f"{node.container} keeps running as it is: a host failed earlier in this run")
        return
    if head_failed:
        yield commands.refuse(
            f"not starting {node.container}: host {after_host} (the Ray head) failed earlier "
            "in this run; fix it and run the deploy again"
        )
        return
    yield commands.compose_up(compose_cli(compose_default), node)


@operation()
def node_healthy(node: Node, timeout_s: int, role: str | None = None, skip_reason: str = ""):
    """
    Wait, up to ``timeout_s``, until Docker reports the container healthy.

    + node: the node (``seedcore.topology.Node``)
    + timeout_s: the deadline in seconds
    + role: act only on a node of this role ("head" or "worker")
    + skip_reason: when set, do nothing and say why (a host outside a rollout batch)
    """
    if passes_by(node, role, skip_reason):
        return
    container = node_container(node)
    if container is not None and container["status"] == "running" and container["health"] == "healthy":
        host.noop(f"{node.container} is healthy")
        return
    yield commands.wait_healthy(node.container, timeout_s, render.health_probe_url(node))


def serve_deploy_marker(node: Node, config_digest: str, marker_path: str, head_hash: str = "") -> str | None:
    """The marker a Serve deploy would record now (the config digest and the
    head container's short ID), or None when no deploy is needed: the head
    container runs, is not about to restart, and the marker on the host
    already says so. ``serve_deployed`` decides with it."""
    container = node_container(node)
    if node.gcs_store:
        # Serve's state outlives the head: the digest is kept in Ray's own store.
        stored = host.get_fact(StoredServeMarker, container=node.container) if container else ""
        return None if stored == config_digest else config_digest
    container_id = container["id"][:12] if container else "new"
    marker = f"{config_digest} {container_id}"
    restarting = bool(head_hash) and not is_current(container, head_hash, node)
    if (
        container is not None
        and not restarting
        and (read_fact(host, FileText, path=marker_path) or "").strip() == marker
    ):
        return None
    return marker


@operation()
def serve_deployed(node: Node, config_path: str, config_digest: str, marker_path: str,
                   head_hash: str = ""):
    """
    Run ``serve deploy`` in the head container when the Serve config changed
    or the head was restarted since the last deploy. With head fault tolerance
    (``node.gcs_store``) Serve's state outlives the head: the deployed digest is
    kept in Ray's own store, and only a changed config is deployed again.

    + node: the head node (``seedcore.topology.Node``)
    + config_path: the Serve config, as the container sees it
    + config_digest: the digest of that config
    + marker_path: where the last deployed digest is recorded on the host
    + head_hash: the head's config digest: a head about to restart needs a redeploy
    """
    marker = serve_deploy_marker(node, config_digest, marker_path, head_hash)
    if marker is None:
        where = " (recorded in the GCS store)" if node.gcs_store else ""
        host.noop(f"the Serve config is deployed{where}")
        return
    if node.gcs_store:
        yield commands.serve_deploy_stored(node.container, config_path, SERVE_MARKER_KEY, config_digest,
                                           node.settings["ray_command_timeout_s"])
        return
    yield commands.serve_deploy(node.container, config_path, marker_path, marker,
                                node.settings["ray_command_timeout_s"])


@operation()
def broken_node_archived(node: Node, config_hash: str, archive_dir: str, head_host: str | None = None,
                         head_hash: str = ""):
    """
    Before anything of a node is removed or recreated (it is not current, a
    leftover, or a worker whose head restarts), archive its containers' logs
    and Ray session logs into ``archive_dir`` on the host.

    + node: the node (``seedcore.topology.Node``)
    + config_hash: the digest of the config it should run
    + archive_dir: the dated folder to archive into
    + head_host, head_hash: for a worker, the head's host and config digest: a
      worker is recreated too when its head is about to be (re)started
    """
    containers = _containers(node)
    own = node_container(node)
    head_restarts = bool(head_host) and node.role == "worker" and not head_is_current(
        node, head_host, head_hash)
    if not containers or (len(containers) == 1 and is_current(own, config_hash, node) and not head_restarts):
        host.noop("nothing to archive: no container is about to be removed")
        return
    s = node.settings
    archive = commands.archive_containers(sorted(c["name"] for c in containers), archive_dir,
                                          s["ray_archive_timeout_s"])
    prune = commands.prune_archives(archive_dir.rsplit("/", 1)[0], s["ray_archive_keep"],
                                    s["ray_archive_max_mb"])
    yield FunctionCommand(archive_then_go_on, (archive, prune, archive_dir), {})


def archive_then_go_on(state, host, archive: str, prune: str, archive_dir: str) -> bool:
    """Archive, then prune the old archives. A failed archive (a full disk, a container
    whose logs cannot be read) is reported, and the restart the run is making goes on:
    the node the operator asked for matters more than the logs of the one it replaces."""
    ok, output = host.run_shell_command(StringCommand(archive), **sudo_args(host))
    if ok:
        host.log((output.stdout.strip().splitlines() or [f"archived to {archive_dir}"])[-1], logger.info)
    else:
        lines = [line for line in output.stderr.splitlines() if line.strip()]
        host.log(f"could not archive into {archive_dir}: {lines[-1] if lines else 'no output'}; "
                 "the node is restarted all the same", logger.warning)
    ok, output = host.run_shell_command(StringCommand(prune), **sudo_args(host))
    for line in output.stdout.splitlines():
        host.log(line, logger.info)
    if not ok:
        host.log(f"could not prune the old archives beside {archive_dir}", logger.warning)
    return True
