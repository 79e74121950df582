"""Canned answers of a fake host: what its commands print, keyed by a substring
of the command that the deploy's facts (deploy/facts/*.py) and pyinfra's own
facts send. The first matcher found in a command wins; anything unmatched
succeeds with no output.

Two states of a host are described: BARE (a fresh Debian 12 server: no
Docker, sshd listening, room on disk) and CONVERGED (Docker running and the
node's container up, healthy and labelled with the config digest the deploy
would give it now).
"""

import hashlib
import json

# -- matchers: substrings of the commands each fact runs -------------------

DOCKER_ENGINE = "then echo absent"  # deploy.facts.docker.DockerEngine
COMPOSE_CLI = "then echo 'docker compose'"  # deploy.facts.docker.ComposeCli
COMPOSE_VERSION = "docker compose version --short"  # deploy.facts.docker.ComposeVersion
CONTAINERS = "xargs -r docker inspect"  # deploy.facts.docker.ProjectContainers
IMAGE_ID = "docker image inspect"  # deploy.facts.docker.ImageId
NVIDIA_SMI = "nvidia-smi --query-gpu"  # deploy.facts.gpu.NvidiaGpus
LISTENING = "--- cgroups"  # deploy.facts.host.ListeningPorts
DISK = "df -Pk"  # deploy.facts.host.DiskAvailableMb
SERVE_MARKER = "cat /opt/seedcore/.serve-deployed"  # deploy.facts.host.FileText
DAEMON_JSON = "cat /etc/docker/daemon.json"  # deploy.facts.host.FileText
DISTRIBUTION = "ls -pdL *-release"  # pyinfra.facts.server.LinuxDistribution
ARCH = "dpkg --print-architecture"  # pyinfra.facts.deb.DebArch
RELEASE = "apt-helper download-file"  # deploy.facts.apt.AptRelease
FETCH_FAILED = "SEEDCORE_RELEASE_FETCH_FAILED"  # what AptRelease prints when the fetch fails
LOCK = "/deploy.lock"  # deploy.lock.take_command / release_command

# -- what a Debian 12 host says ---------------------------------------------

# `/etc/*-release` as LinuxDistribution reads it: each file's name, its text, `---`.
DEBIAN_12_RELEASE = [
    "/etc/os-release",
    'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"',
    'NAME="Debian GNU/Linux"',
    'VERSION_ID="12"',
    'VERSION="12 (bookworm)"',
    "VERSION_CODENAME=bookworm",
    "ID=debian",
    'HOME_URL="https://www.debian.org/"',
    'SUPPORT_URL="https://www.debian.org/support"',
    'BUG_REPORT_URL="https://bugs.debian.org/"',
    "---",
]

# The Release file of Docker's repository for bookworm, as AptRelease reads it (head of it).
DOCKER_BOOKWORM_RELEASE = [
    "Origin: Docker",
    "Label: Docker CE",
    "Suite: bookworm",
    "Codename: bookworm",
    "Architectures: amd64 arm64 armhf ppc64el s390x",
    "Components: stable",
    "Description: Docker CE packages for Debian bookworm",
    "Date: Thu, 14 Nov 2024 10:02:35 +0000",
]

SSHD_PID = 612


def listening(*holders: tuple[int, str, int, str]) -> list[str]:
    """`ss -Hltnp` lines, then each PID's container ID from its cgroup (or none),
    as ListeningPorts prints them. Each holder: (port, process, pid, container_id)."""
    sockets = [
        f"LISTEN 0      4096         0.0.0.0:{port}      0.0.0.0:*    "
        f'users:(("{process}",pid={pid},fd=6))'
        for port, process, pid, _ in holders
    ]
    cgroups = sorted({f"{pid} {container}".rstrip() for _, _, pid, container in holders})
    return [*sockets, "--- cgroups", *cgroups]


SSHD = (22, "sshd", SSHD_PID, "")


def _merged(overrides: dict, base: dict) -> dict:
    """`overrides` first (the first match wins), then the rest of `base`."""
    merged = dict(overrides)
    for matcher, answer in base.items():
        merged.setdefault(matcher, answer)
    return merged


def bare_debian12(**overrides) -> dict:
    """A freshly provisioned Debian 12 (bookworm, amd64) server: no Docker, no
    NVIDIA driver, only sshd listening, 50 GiB free. Keyword arguments replace
    answers, keyed by the matcher constants' names (e.g. DISK="1200")."""
    base = {
        DOCKER_ENGINE: "absent",
        COMPOSE_CLI: "none",
        DISTRIBUTION: DEBIAN_12_RELEASE,
        ARCH: "amd64",
        RELEASE: DOCKER_BOOKWORM_RELEASE,
        DISK: "51200",
        LISTENING: listening(SSHD),
        NVIDIA_SMI: "NO_NVIDIA_SMI",
        LOCK: "taken",
    }
    return _merged(_by_matcher(overrides), base)


def _by_matcher(overrides: dict) -> dict:
    return {globals()[name]: answer for name, answer in overrides.items()}


# -- NVIDIA -----------------------------------------------------------------

NO_DRIVER = "NO_NVIDIA_SMI"

# What nvidia-smi prints after a driver upgrade without a reboot (exit code 18).
DRIVER_MISMATCH = [
    "Failed to initialize NVML: Driver/library version mismatch",
    "NVML library version: 550.120",
    "exit=18",
]


def gpus(count: int, name: str = "NVIDIA A100-SXM4-40GB", driver: str = "550.54.15") -> list[str]:
    """`nvidia-smi --query-gpu=index,name,driver_version --format=csv,noheader` on a working host."""
    return [f"{index}, {name}, {driver}" for index in range(count)] + ["exit=0"]


# -- a converged host ---------------------------------------------------------

DOCKER_VERSION = "27.3.1"
COMPOSE_V2_VERSION = "2.29.7"
IMAGE_SHA = "sha256:" + "5e2c" * 16


def inspect_record(container_id: str, name: str, image: str, role: str, config_hash: str,
                   command: list[str], status: str = "running", health: str = "healthy",
                   env: list[str] | None = None) -> dict:
    """One container as `docker inspect` prints it (the fields the deploy reads)."""
    return {
        "Id": container_id,
        "Name": f"/{name}",
        "State": {
            "Status": status,
            "Running": status == "running",
            "StartedAt": "2024-06-10T08:15:02.118290374Z",
            "Health": {"Status": health, "FailingStreak": 0},
        },
        "Config": {
            "Image": image,
            "Cmd": command,
            "Env": env or [],
            "Labels": {
                "com.docker.compose.project": "seedcore",
                "com.docker.compose.service": "ray-head" if role == "head" else "ray-worker",
                "io.seedcore.managed-by": "seedcore-deploy",
                "io.seedcore.role": role,
                "io.seedcore.config-hash": config_hash,
            },
        },
    }


def converged(record: dict, ports: list[int], serve_marker: str = "", **overrides) -> dict:
    """A Debian 12 host with Docker running and the node's container `record`
    up; `ports` are held by Ray processes inside that container; the Serve
    marker says what the head last deployed."""
    container_id = record["Id"]
    holders = [SSHD] + [(port, "raylet", 3100 + index, container_id) for index, port in enumerate(ports)]
    base = {
        DOCKER_ENGINE: f"running {DOCKER_VERSION}",
        COMPOSE_CLI: "docker compose",
        COMPOSE_VERSION: COMPOSE_V2_VERSION,
        CONTAINERS: json.dumps([record], indent=4).splitlines(),
        IMAGE_ID: IMAGE_SHA,
        SERVE_MARKER: serve_marker,
    }
    return _merged(_by_matcher(overrides), bare_debian12(LISTENING=listening(*holders)) | base)


def container_id(host: str) -> str:
    """A stable fake container ID per host."""
    return hashlib.sha256(host.encode()).hexdigest()


def converged_node(name: str, node, config_hash: str, command: list[str]) -> dict:
    """fake_responses for a host whose node runs `config_hash` with `command`,
    healthy, holding its ports, with the Serve config recorded as deployed on the head."""
    from deploy import render
    from deploy.operations.ray import rendered_env
    from deploy.validate import port_keys

    env = [f"{key}={value}" for key, value in rendered_env(node).items()]
    record = inspect_record(container_id(name), node.container, node.image, node.role,
                            config_hash, command, env=env)
    marker = ""
    if node.role == "head":
        marker = f"{render.serve_config_digest(node.settings, node.cluster_size)} {container_id(name)[:12]}"
    return converged(record, [node.settings[key] for key in port_keys(node.role)], marker)
