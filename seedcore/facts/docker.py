"""Facts about the Docker engine and the containers the deploy owns."""

import json
import shlex

from pyinfra.api import FactBase
from pyinfra.api.command import QuoteString, StringCommand

from seedcore.render import HASH_LABEL, MANAGED_LABEL, MANAGED_VALUE, ROLE_LABEL

# What a container without the deploy's label is, in drift and preflight lines.
UNMANAGED = f"carries no {MANAGED_LABEL} label: it was not made by this deploy"

# What the Docker CLI says when no daemon answers on its socket (not started yet,
# or stopped): the engine is down. Any other failure (permission denied on the
# socket, a broken client) is the fact's failure, never "down" or "no containers".
DAEMON_DOWN = "Cannot connect to the Docker daemon"


def unless_down(said: str, down: str) -> str:
    """Shell run after a Docker call failed with its output (stderr included) in
    the variable `said`: `down` when the daemon is not running, else that output
    on stderr and exit 1 (the fact fails, naming it)."""
    return (f'case "${said}" in *{shlex.quote(DAEMON_DOWN)}*) {down} ;; '
            f'*) printf \'%s\\n\' "${said}" >&2; exit 1 ;; esac')


class DockerEngine(FactBase):
    """
    Whether the Docker engine is installed and answering. Fails (with what
    Docker said) when the daemon is there but refuses the deploy's user.

    Returns ``{"installed": bool, "running": bool, "version": str}``.
    """

    def command(self) -> str:
        return (
            "if ! command -v docker >/dev/null 2>&1; then echo absent; "
            "elif v=$(docker version --format '{{.Server.Version}}' 2>&1); "
            f'then echo "running $v"; else {unless_down("v", "echo down")}; fi'
        )

    def process(self, output):
        words = " ".join(output).split()
        state = words[0] if words else "absent"
        return {
            "installed": state != "absent",
            "running": state == "running",
            "version": words[1] if len(words) > 1 else "",
        }


class ComposeCli(FactBase):
    """
    The Compose command line this host has: ``docker compose`` (v2),
    ``docker-compose`` (v1), or ``None``.
    """

    def command(self) -> str:
        return (
            "if docker compose version >/dev/null 2>&1; then echo 'docker compose'; "
            "elif command -v docker-compose >/dev/null 2>&1; then echo docker-compose; "
            "else echo none; fi"
        )

    def process(self, output):
        value = " ".join(output).strip()
        return None if value in ("", "none") else value


def _summarise(record: dict, images: dict[str, dict] | None = None) -> dict:
    state = record.get("State", {})
    config = record.get("Config", {})
    host_config = record.get("HostConfig", {})
    labels = config.get("Labels") or {}
    summary = {
        "id": record.get("Id", ""),
        "name": record.get("Name", "").lstrip("/"),
        "image": config.get("Image", ""),
        "status": state.get("Status", ""),
        "health": (state.get("Health") or {}).get("Status", ""),
        "started_at": state.get("StartedAt", ""),
        "config_hash": labels.get(HASH_LABEL, ""),
        "role": labels.get(ROLE_LABEL, ""),
        "compose_project": labels.get("com.docker.compose.project", ""),
        "managed": labels.get(MANAGED_LABEL) == MANAGED_VALUE,
        "command": config.get("Cmd") or [],
        "env": config.get("Env") or [],
        "labels": labels,
    }
    # Docker always prints these; a record without them (a partial one) is not compared.
    if "Mounts" in record:
        summary["mounts"] = sorted(f"{m.get('Source') or m.get('Name', '')}:{m.get('Destination', '')}"
                                   for m in record["Mounts"] or [])
    if host_config:
        summary.update({
            "network_mode": host_config.get("NetworkMode", ""),
            "restart_policy": (host_config.get("RestartPolicy") or {}).get("Name", ""),
            "privileged": bool(host_config.get("Privileged")),
            "cap_add": sorted(host_config.get("CapAdd") or []),
            "devices": sorted(d.get("PathInContainer", "") for d in host_config.get("Devices") or []),
        })
    image = (images or {}).get(record.get("Image", ""))
    if image is not None:
        # What the image itself gives: not drift when the container has it too.
        image_config = image.get("Config") or {}
        summary["image_env"] = sorted(item.partition("=")[0] for item in image_config.get("Env") or [])
        summary["image_labels"] = sorted(image_config.get("Labels") or {})
        summary["image_volumes"] = sorted(image_config.get("Volumes") or {})
    return summary


def _split_inspect(records: list[dict]) -> tuple[list[dict], dict[str, dict]]:
    """`docker inspect` of containers and their images together: (containers, images by Id)."""
    containers = [r for r in records if "State" in r]
    images = {r.get("Id", ""): r for r in records if "State" not in r}
    return containers, images


PROJECT_LABEL = "com.docker.compose.project"
# Rows of `docker ps` (id, names, managed-by label, compose project label, image) that
# belong to the deploy, its compose project, or bear a node name exactly: their ids,
# and each of their images once, inspected together.
MATCH_PROGRAM = (
    'BEGIN { n = split(ENVIRON["SEEDCORE_NAMES"], wanted, "\\n"); '
    "for (i = 1; i <= n; i++) named[wanted[i]] = 1 } "
    '($3 == ENVIRON["SEEDCORE_MANAGED"] || $4 == ENVIRON["SEEDCORE_PROJECT"] || ($2 in named)) '
    "{ print $1; if (!($5 in image)) { image[$5] = 1; print $5 } }"
)


class ProjectContainers(FactBase):
    """
    Containers that belong to the deploy or to its compose project, and any
    container carrying one of the node names (one made by hand, without the
    project's labels, included), summarised: id, name, image, status, health,
    started_at, config_hash, role, compose_project, managed, command (the
    container's argument list), env (its KEY=VALUE list), labels, mounts
    (source:destination), network_mode, restart_policy, privileged, cap_add,
    devices, and what its image gives of these (image_env, image_labels,
    image_volumes: names only). Empty when Docker is absent or down; fails
    (with what Docker said) when ``docker ps`` fails otherwise (permission
    denied on the socket is not "no containers").

    + project: the compose project name (``ray_compose_project``)
    + names: the node container names (``ray_head_container``, ``ray_worker_container``)
    """

    @staticmethod
    def default():
        return []

    def command(self, project: str, names: list[str]) -> StringCommand:
        # One `docker ps` (each Docker CLI call costs tens of milliseconds of CPU),
        # matched by exact strings: the values reach awk through its environment,
        # never through its program or its escape processing.
        listing = "\t".join(["{{.ID}}", "{{.Names}}", f'{{{{.Label "{MANAGED_LABEL}"}}}}',
                              f'{{{{.Label "{PROJECT_LABEL}"}}}}', "{{.Image}}"])
        return StringCommand(
            "command -v docker >/dev/null 2>&1 || exit 0;",
            "if ! rows=$(docker ps -a --no-trunc --format", QuoteString(listing), "2>&1); then",
            unless_down("rows", "exit 0"), "; fi;",
            "printf '%s\\n' \"$rows\" |",
            f"SEEDCORE_MANAGED={shlex.quote(MANAGED_VALUE)}", f"SEEDCORE_PROJECT={shlex.quote(project)}",
            f"SEEDCORE_NAMES={shlex.quote(chr(10).join(names))}",
            "awk -F", QuoteString("\t"), QuoteString(MATCH_PROGRAM),
            "| xargs -r docker inspect 2>/dev/null || true",
        )

    def process(self, output):
        text = "\n".join(output).strip()
        if not text:
            return []
        containers, images = _split_inspect(json.loads(text))
        return [_summarise(record, images) for record in containers]


class ImageId(FactBase):
    """
    The local ID of an image reference, or ``None`` when it is not pulled.

    + image: the image reference
    """

    def command(self, image: str) -> StringCommand:
        return StringCommand("docker image inspect -f '{{.Id}}'", QuoteString(image), "2>/dev/null || true")

    def process(self, output):
        value = "".join(output).strip()
        return value or None


CONTAINER_MISSING = "### seedcore-container-missing"
COUNT_PROGRAM = (
    'BEGIN { n = split(ENVIRON["SEEDCORE_SIGNATURES"], sig, "\\n"); for (i = 1; i <= n; i++) count[i] = 0 } '
    f'$0 == "{CONTAINER_MISSING}" {{ missing = 1; next }} '
    "{ for (i = 1; i <= n; i++) if (index($0, sig[i])) count[i]++ } "
    f'END {{ if (missing) {{ print "{CONTAINER_MISSING}"; exit }} '
    'for (i = 1; i <= n; i++) printf "%s\\t%d\\n", sig[i], count[i] }'
)


class LogSignatureCounts(FactBase):
    """
    How many lines of a container's logs hold each fixed string, read with one
    ``docker logs``; ``None`` when the container is missing (or Docker does not
    answer), so its logs could not be read.

    + container: the container name
    + signatures: the strings to count (no tab, no newline)
    """

    def command(self, container: str, signatures: list[str]) -> StringCommand:
        if any("\n" in signature or "\t" in signature for signature in signatures):
            raise ValueError("a log signature holds a tab or a newline")
        # One Docker call while the container is there: only when `docker logs`
        # fails is Docker asked whether the container exists. The signatures
        # reach awk through its environment, never its program.
        return StringCommand(
            "{ docker logs", QuoteString(container), "2>&1 || { docker inspect --type container",
            QuoteString(container), ">/dev/null 2>&1 || echo", QuoteString(CONTAINER_MISSING), "; } ; } |",
            f"SEEDCORE_SIGNATURES={shlex.quote(chr(10).join(signatures))}", "awk", QuoteString(COUNT_PROGRAM),
        )

    def process(self, output):
        if CONTAINER_MISSING in output:
            return None
        counts = {}
        for line in output:
            signature, _, count = line.rpartition("\t")
            if signature:
                counts[signature] = int(count or 0)
        return counts


class ComposeVersion(FactBase):
    """The Compose version (``2.24.6``, ``1.29.2``), or ``None`` without Compose."""

    def command(self) -> str:
        return (
            "docker compose version --short 2>/dev/null "
            "|| docker-compose version --short 2>/dev/null || true"
        )

    def process(self, output):
        value = "".join(output).strip().lstrip("v")
        return value or None
