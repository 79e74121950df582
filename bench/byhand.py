"""Pure builders for the floor: the deploy's own work typed by hand on bare hosts.

Every option comes from what the deploy renders for the same inventory
(seedcore/render.py, seedcore/families/debian.py), so the floor stays in step with
the deploy: the same Docker packages from the same source, the same daemon.json,
the same `ray start` command, container options, env file and Serve config.
"""

import base64
import shlex

from seedcore import render
from seedcore.families.debian import docker_packages, docker_repository_url

# Where a key fetched by hand goes: apt reads an armored key from a .asc file, so no gpg is needed.
HAND_KEYRING = "/etc/apt/keyrings/docker-by-hand.asc"
APT = "DEBIAN_FRONTEND=noninteractive apt-get"


def as_root(script: str) -> str:
    """`script` run by root through sudo, as one quoted shell word."""
    return f"sudo sh -c {shlex.quote(script)}"


def written(path: str, content: str, mode: str = "0644") -> str:
    """Shell that writes `content` to `path` exactly (base64 on the wire, so any byte survives)."""
    encoded = base64.b64encode(content.encode()).decode()
    return (f"mkdir -p {shlex.quote(path.rsplit('/', 1)[0] or '/')} && "
            f"echo {encoded} | base64 -d > {shlex.quote(path)} && chmod {mode} {shlex.quote(path)}")


def docker_install(settings: dict, distro_id: str, codename: str) -> str:
    """Docker installed the fastest sane way from the source the deploy uses for this host,
    then daemon.json as the deploy renders it and the engine restarted."""
    packages = " ".join(shlex.quote(package) for package in docker_packages(settings))
    steps = []
    if settings["docker_install_source"] == "docker":
        repo = docker_repository_url(settings, distro_id)
        source = (f"Types: deb\nURIs: {repo}\nSuites: {codename}\nComponents: stable\n"
                  f"Signed-By: {HAND_KEYRING}\n")
        steps += [
            "mkdir -p /etc/apt/keyrings",
            f"/usr/lib/apt/apt-helper download-file {shlex.quote(repo + '/gpg')} {HAND_KEYRING} >/dev/null",
            written("/etc/apt/sources.list.d/docker-by-hand.sources", source),
        ]
    # Recommends as the deploy installs them: none from the distribution, the
    # repository's (Debian 13's docker.io recommends its CLI, docker-cli) from a mirror.
    recommends = "" if settings["docker_install_source"] == "docker" else " --no-install-recommends"
    steps += [
        f"{APT} update -q >/dev/null",
        f"{APT} install -y -q{recommends} --allow-downgrades {packages} >/dev/null",
        written("/etc/docker/daemon.json", render.daemon_json(settings)),
        "systemctl restart docker",
    ]
    return as_root(" && ".join(steps))


def pull(image: str) -> str:
    return f"sudo docker pull -q {shlex.quote(image)}"


def _unescaped(value: str) -> str:
    """A compose value as the container sees it (`$$` is Compose's literal `$`)."""
    return str(value).replace("$$", "$")


def docker_run(node, config_hash: str) -> list[str]:
    """`docker run` with the options of the deploy's compose service for `node`, as argv.

    Docker's healthcheck is left out: the floor waits on Ray itself."""
    service = render.compose_service(node, config_hash)
    env_path = next(file.path for file in render.project_files(node, config_hash) if file.key == "env")
    args = ["docker", "run", "--detach", "--name", service["container_name"],
            "--network", service["network_mode"], "--restart", service["restart"],
            "--shm-size", service["shm_size"]]
    for name, limits in service.get("ulimits", {}).items():
        args += ["--ulimit", f"{name}={limits['soft']}:{limits['hard']}"]
    args += ["--env-file", env_path]
    for key, value in service.get("environment", {}).items():
        args += ["--env", f"{key}={_unescaped(value)}"]
    for volume in service.get("volumes", []):
        args += ["--volume", volume]
    for key, value in service.get("labels", {}).items():
        args += ["--label", f"{key}={value}"]
    args.append(service["image"])
    args += [_unescaped(arg) for arg in service["command"]]
    return args


def node_files(node, config_hash: str = "") -> list:
    """The files the node's container reads, as the deploy renders them: env file, health
    app, and on the head the Serve route check and config for the whole cluster (not the
    compose file: the floor starts the container with `docker run`)."""
    return [file for file in render.project_files(node, config_hash) if file.key != "compose"]


def start_node(node, config_hash: str) -> str:
    """The node's files written, then its container started: one root shell line."""
    writes = [written(file.path, file.text, file.mode) for file in node_files(node, config_hash)]
    return as_root(" && ".join([*writes, shlex.join(docker_run(node, config_hash))]))


def serve_deploy(node) -> str:
    """`serve deploy` of the rendered config inside the head's container."""
    container = node.settings["ray_head_container"]
    config = render.container_serve_config()
    return f"sudo docker exec {shlex.quote(container)} serve deploy {shlex.quote(config)}"


def alive_ips(payload: dict) -> set[str]:
    """Node IPs in the dashboard's ALIVE node list (/api/v0/nodes filtered on state)."""
    nodes = ((payload.get("data") or {}).get("result") or {}).get("result") or []
    return {node.get("node_ip") for node in nodes if node.get("state", "ALIVE") == "ALIVE"}
