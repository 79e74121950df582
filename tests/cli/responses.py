"""Canned answers of a fake host: what its commands print, keyed by a substring
of the command that the deploy's facts (seedcore/facts/*.py) and pyinfra's own
facts send. The first matcher found in a command wins; anything unmatched
succeeds with no output.

Two states of a host are described: BARE (a fresh Debian 12 server: no
Docker, sshd listening, room on disk) and CONVERGED (Docker running and the
node's container up, healthy and labelled with the config digest the deploy
would give it now).
"""

import hashlib
import json
import re

from seedcore.families.debian import (
    DOCKER_KEYRING,
    TOOLKIT_KEYRING,
    docker_packages,
    docker_repository_url,
    pinned_names,
    toolkit_uri,
)
from seedcore.gpu import toolkit_packages
from seedcore.operations.docker import DAEMON_JSON as DAEMON_JSON_PATH
from seedcore.render import daemon_json

# -- matchers: substrings of the commands each fact runs -------------------

DOCKER_ENGINE = "then echo absent"  # deploy.facts.docker.DockerEngine
COMPOSE_CLI = "then echo 'docker compose'"  # deploy.facts.docker.ComposeCli
COMPOSE_VERSION = "docker compose version --short"  # deploy.facts.docker.ComposeVersion
CONTAINERS = "xargs -r docker inspect"  # deploy.facts.docker.ProjectContainers
IMAGE_ID = "docker image inspect"  # deploy.facts.docker.ImageId
NVIDIA_SMI = "nvidia-smi --query-gpu"  # deploy.facts.gpu.NvidiaGpus
LISTENING = "--- cgroups"  # deploy.facts.host.ListeningPorts
DISK = re.compile(r"p=/var/lib/docker\b(?!/)")  # deploy.facts.host.DiskAvailableMb, where the images go
PROJECT_DISK = re.compile(r"p=/opt/seedcore\b(?!/)")  # deploy.facts.host.DiskAvailableMb, the archives
SERVE_MARKER = "cat /opt/seedcore/.serve-deployed"  # deploy.facts.host.FileText
DAEMON_JSON = "cat /etc/docker/daemon.json"  # deploy.facts.host.FileText
DAEMON_JSON_SHA256 = "sha256sum /etc/docker/daemon.json"  # pyinfra.facts.files.Sha256File
DAEMON_JSON_SHA1 = "sha1sum /etc/docker/daemon.json"  # pyinfra.facts.files.Sha1File (files.put)
DAEMON_JSON_STAT = "ls -ld /etc/docker/daemon.json"  # pyinfra.facts.files.File (files.put)
DOCKER_DIR_STAT = re.compile(r"ls -ld /etc/docker\b(?!/)")  # pyinfra.facts.files.Directory (files.put)
DEFAULT_SITE_STAT = "ls -ld /etc/nginx/sites-enabled/default"  # pyinfra.facts.files.File (files.file)
DEB_PACKAGES = "dpkg -l"  # pyinfra.facts.deb.DebPackages
HELD_PACKAGES = "apt-mark showhold"  # deploy.facts.apt.HeldPackages
APT_SOURCES = "##PYINFRA_FILE"  # pyinfra.facts.apt.AptSources
DOCKER_KEYRING_KEYS = f"--with-colons {DOCKER_KEYRING}"  # deploy.facts.apt.KeyringFingerprints
NVIDIA_KEYRING_KEYS = f"--with-colons {TOOLKIT_KEYRING}"  # deploy.facts.apt.KeyringFingerprints
DISTRIBUTION = "ls -pdL *-release"  # pyinfra.facts.server.LinuxDistribution
ARCH = "dpkg --print-architecture"  # pyinfra.facts.deb.DebArch
RELEASE = "apt-helper download-file"  # deploy.facts.apt.AptRelease
FETCH_FAILED = "SEEDCORE_RELEASE_FETCH_FAILED"  # what AptRelease prints when the fetch fails
LOCK = "/deploy.lock"  # deploy.lock.take_command / release_command
ACTIVE_FIREWALLS = "ufw status"  # deploy.facts.host.ActiveFirewalls
EPOCH = "date +%s"  # deploy.facts.host.EpochSeconds
SUDO_ACCESS = "sudo -n true 2>/dev/null"  # deploy.facts.host.SudoAccess

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
        PROJECT_DISK: "51200",
        LISTENING: listening(SSHD),
        NVIDIA_SMI: "NO_NVIDIA_SMI",
        LOCK: "taken",
        # Every fake host's clock reads the same second: in step.
        EPOCH: "1796300000",
        SUDO_ACCESS: "passwordless",
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


def sha256sum(path: str, text: str) -> str:
    """What `sha256sum PATH` prints for a file holding `text`."""
    return f"{hashlib.sha256(text.encode()).hexdigest()}  {path}"


def sha1sum(path: str, text: str) -> str:
    """What `sha1sum PATH` prints for a file holding `text`."""
    return f"{hashlib.sha1(text.encode()).hexdigest()}  {path}"


def stat_line(path: str, text: str, mode: str = "-rw-r--r--", user: str = "root") -> str:
    """What pyinfra's File fact (`stat -c ...`) prints for a file holding `text`."""
    return (f"user={user} group={user} mode={mode} atime=1796300000 mtime=1796300000 ctime=1796300000 "
            f"size={len(text.encode())} '{path}'")


def dpkg_list(packages: list[str]) -> list[str]:
    """`dpkg -l` rows of these packages ("name" or "name=version") installed."""
    rows = []
    for package in packages:
        name, _, version = package.partition("=")
        rows.append(f"ii  {name}  {version or '1.0.0-1'}  amd64  {name} as Debian installs it")
    return rows


def keyring(fingerprint: str) -> list[str]:
    """`gpg --show-keys --with-colons` on a keyring holding one key, `fingerprint`."""
    return [
        f"pub:-:4096:1:{fingerprint[-16:]}:1487788586:::-:::scESA::::::23::0:",
        f"fpr:::::::::{fingerprint}:",
        "uid:-::::1487788586::C9C24A6DF0C0CE7E40E2C1E8AA2FD2DDD9DA5EF3::Docker Release (CE deb) "
        "<docker@docker.com>::::::::::0:",
    ]


def sources_file(path: str, uri: str, suites: list[str], components: list[str],
                 keyring_path: str) -> list[str]:
    """A deb822 .sources file for amd64 as apt.sources_file writes it, as AptSources reads it."""
    lines = [f"##PYINFRA_FILE {path}", "Types: deb", f"URIs: {uri}", f"Suites: {' '.join(suites)}"]
    if components:
        lines.append(f"Components: {' '.join(components)}")
    return [*lines, "Architectures: amd64", f"Signed-By: {keyring_path}", ""]


def signed_repositories(settings: dict, gpu: bool) -> dict:
    """Answers of a Debian 12 host on which the deploy already added Docker's
    signed repository (and, for a GPU host, NVIDIA's) and installed from it."""
    answers = {}
    sources = []
    if settings["docker_install_source"] == "docker":
        answers[DOCKER_KEYRING_KEYS] = keyring(settings["docker_apt_key_fingerprint"])
        sources += sources_file("/etc/apt/sources.list.d/docker.sources",
                                docker_repository_url(settings, "debian"), ["bookworm"], ["stable"],
                                DOCKER_KEYRING)
    packages = docker_packages(settings)
    if gpu:
        answers[NVIDIA_KEYRING_KEYS] = keyring(settings["gpu_toolkit_key_fingerprint"])
        sources += sources_file("/etc/apt/sources.list.d/nvidia-container-toolkit.sources",
                                toolkit_uri(settings, "amd64"), ["/"], [], TOOLKIT_KEYRING)
        packages += toolkit_packages(settings)
    answers[APT_SOURCES] = sources
    answers[DEB_PACKAGES] = dpkg_list(packages)
    # The packages docker_version pins, held by the deploy at that pin.
    answers[HELD_PACKAGES] = pinned_names(settings)
    return answers


def converged(record: dict, ports: list[int], serve_marker: str = "", settings: dict | None = None,
              gpu: bool = False, image: dict | None = None, **overrides) -> dict:
    """A Debian 12 host with Docker running and the node's container `record`
    up; `ports` are held by Ray processes inside that container; the Serve
    marker says what the head last deployed. Given the host's `settings`,
    Docker's packages are installed as they ask and daemon.json holds what
    the deploy renders for them, its signed apt repositories are added (for
    a GPU host NVIDIA's too, and the toolkit installed) and the packages
    docker_version pins held. `image` is the image's own record, inspected
    with the container."""
    container_id = record["Id"]
    holders = [SSHD] + [(port, "raylet", 3100 + index, container_id) for index, port in enumerate(ports)]
    base = {
        DOCKER_ENGINE: f"running {DOCKER_VERSION}",
        COMPOSE_CLI: "docker compose",
        COMPOSE_VERSION: COMPOSE_V2_VERSION,
        CONTAINERS: json.dumps([record] + ([image] if image else []), indent=4).splitlines(),
        IMAGE_ID: IMAGE_SHA,
        SERVE_MARKER: serve_marker,
    }
    if settings is not None:
        daemon = daemon_json(settings, gpu=gpu)
        base[DAEMON_JSON_SHA256] = sha256sum(DAEMON_JSON_PATH, daemon)
        base[DAEMON_JSON_SHA1] = sha1sum(DAEMON_JSON_PATH, daemon)
        base[DAEMON_JSON_STAT] = stat_line(DAEMON_JSON_PATH, daemon)
        base[DOCKER_DIR_STAT] = stat_line("/etc/docker", "", mode="drwxr-xr-x")
        base[DAEMON_JSON] = daemon.splitlines()
        base.update(signed_repositories(settings, gpu))
    return _merged(_by_matcher(overrides), bare_debian12(LISTENING=listening(*holders)) | base)


def container_id(host: str) -> str:
    """A stable fake container ID per host."""
    return hashlib.sha256(host.encode()).hexdigest()


IMAGE_PATH = "PATH=/opt/ray/bin:/usr/local/bin:/usr/bin:/bin"


def image_record(image: str) -> dict:
    """The Ray image as `docker image inspect` prints it (the fields the deploy reads)."""
    return {"Id": IMAGE_SHA, "RepoTags": [image],
            "Config": {"Env": [IMAGE_PATH], "Labels": None, "Volumes": None}}


def converged_node(name: str, node, config_hash: str, command: list[str],
                   added_env: tuple[str, ...] = (), added_mounts: tuple[str, ...] = (),
                   files: bool = False) -> dict:
    """fake_responses for a host whose node runs `config_hash` with `command`,
    healthy, holding its ports, with the Serve config recorded as deployed on
    the head; a GPU node's driver answers with its GPUs. `added_env`
    (KEY=VALUE) and `added_mounts` (source:destination) are what a hand
    change gave the container beyond the render. With `files`, the node's project
    files, Docker's service and the base tools are as the deploy leaves them too
    (`node_files`)."""
    from seedcore import render
    from seedcore.operations.ray import rendered_env, wanted_mounts
    from seedcore.ports import port_keys

    env = [f"{key}={value}" for key, value in rendered_env(node).items()] + [IMAGE_PATH, *added_env]
    record = inspect_record(container_id(name), node.container, node.image, node.role,
                            config_hash, command, env=env)
    record["Image"] = IMAGE_SHA
    record["HostConfig"] = {"NetworkMode": "host", "Privileged": False, "CapAdd": None, "Devices": [],
                            "RestartPolicy": {"Name": node.settings["ray_restart_policy"]}}
    record["Mounts"] = [{"Type": "bind", "Source": mount.split(":")[0], "Destination": mount.split(":")[1]}
                        for mount in sorted(wanted_mounts(node)) + list(added_mounts)]
    marker = ""
    if node.role == "head":
        marker = f"{render.serve_config_digest(node.settings, node.cluster_size)} {container_id(name)[:12]}"
    overrides = {"NVIDIA_SMI": gpus(node.gpus)} if node.gpus else {}
    answers = converged(record, [node.settings[key] for key in port_keys(node.role)], marker,
                        settings=node.settings, gpu=bool(node.gpus), image=image_record(node.image),
                        **overrides)
    if not files:
        return answers
    project = node_files(node, config_hash)
    answers[DEB_PACKAGES] = answers[DEB_PACKAGES] + project.pop("BASE_PACKAGES")
    return _merged(project, answers)


# -- the files and services of a converged node ---------------------------------


def _exactly(command_start: str) -> re.Pattern:
    """A matcher for a command naming exactly this path (not a longer one beneath it)."""
    return re.compile(re.escape(command_start) + r"(?![\w/.-])")


def file_on_host(path: str, text: str, mode: str = "-rw-r--r--") -> dict:
    """Answers of a host holding `text` at `path`, root's, as pyinfra's File,
    Sha1File and Sha256File read it (mode as `ls -l` writes it)."""
    return {_exactly(f"ls -ld {path}"): stat_line(path, text, mode=mode),
            _exactly(f"sha1sum {path}"): sha1sum(path, text),
            _exactly(f"sha256sum {path}"): sha256sum(path, text)}


def directory_on_host(path: str) -> dict:
    """Answers of a host with the directory `path`, root's, 0755."""
    return {_exactly(f"ls -ld {path}"): stat_line(path, "", mode="drwxr-xr-x")}


def service_running(unit: str) -> dict:
    """Answers of a host whose systemd unit `unit` is active and enabled."""
    return {f"--property SubState {unit}": [f"Id={unit}", "SubState=running"],
            f"--property UnitFileState {unit}": [f"Id={unit}", "UnitFileState=enabled"]}


def node_files(node, config_hash: str) -> dict:
    """Answers of a host holding the node's project as the deploy renders it now
    (its directories, the root-only env and compose files, the Serve files), Docker
    running and enabled, the base tools and the apt keyrings directory there."""
    from seedcore import render
    from seedcore.families.debian import BASE_PACKAGES
    from seedcore.signed_apt import KEYRING_DIR

    project = node.settings["ray_project_dir"]
    answers = {**directory_on_host(project), **directory_on_host(f"{project}/{render.SERVE_DIR}"),
               **directory_on_host(KEYRING_DIR), **service_running("docker.service")}
    for file in render.project_files(node, config_hash):
        answers.update(file_on_host(file.path, file.text, "-rw-------" if file.secret else "-rw-r--r--"))
    answers["BASE_PACKAGES"] = dpkg_list(BASE_PACKAGES)
    return answers
