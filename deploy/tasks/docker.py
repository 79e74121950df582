"""Docker on every host: packages, daemon.json, the service, the docker group."""

from io import StringIO

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.facts.deb import DebArch
from pyinfra.facts.server import LinuxDistribution
from pyinfra.operations import apt, files, server, systemd
from pyinfra.operations.util import any_changed

from deploy.defaults import DOCKER_DEFAULTS
from deploy.operations import docker
from deploy.render import daemon_json
from deploy.topology import settings_for
from deploy.validate import InventoryError

KEYRING = "/etc/apt/keyrings/docker.asc"
SUPPORTED_DISTROS = {"debian", "ubuntu"}
# Tools the deploy's own facts and checks use on every host.
BASE_PACKAGES = ["ca-certificates", "curl", "iproute2", "procps"]


def apt_signing_key(what: str, url: str, keyring: str) -> None:
    """A repository's signing key under /etc/apt/keyrings, for its signed-by source."""
    files.directory(name="Create the apt keyrings directory", path="/etc/apt/keyrings", mode="0755")
    files.download(name=f"Download {what}", src=url, dest=keyring, mode="0644")


def distro_of(facts: dict | None) -> tuple[str, str]:
    """(id, codename) from the LinuxDistribution fact, e.g. ("debian", "bookworm")."""
    facts = facts or {}
    meta = facts.get("release_meta") or {}
    distro_id = (meta.get("ID") or facts.get("name") or "").lower()
    codename = meta.get("VERSION_CODENAME") or meta.get("UBUNTU_CODENAME") or ""
    return distro_id, codename


def unsupported_distro_problem(host_name: str, facts: dict | None) -> str | None:
    distro_id, _ = distro_of(facts)
    if distro_id in SUPPORTED_DISTROS:
        return None
    return (
        f"host {host_name}: docker_install_source='docker' supports Debian and Ubuntu, "
        f"not {distro_id or 'an unknown distribution'}: use docker_install_source='distro'"
    )


def official_package_list(settings: dict) -> list[str]:
    """Docker's packages, with the engine and CLI pinned when a version is set."""
    version = settings["docker_version"]
    pinned = {"docker-ce", "docker-ce-cli"}
    return [
        f"{name}={version}" if version and name in pinned else name
        for name in settings["docker_official_packages"]
    ]


def _official_repository(settings: dict):
    facts = host.get_fact(LinuxDistribution)
    problem = unsupported_distro_problem(host.name, facts)
    if problem:
        raise InventoryError(problem)
    distro_id, codename = distro_of(facts)
    apt_signing_key("Docker's apt signing key", f"{settings['docker_apt_url']}/{distro_id}/gpg", KEYRING)
    return apt.sources_file(
        name="Add Docker's apt repository, signed by its key",
        filename="docker",
        uris=[f"{settings['docker_apt_url']}/{distro_id}"],
        suites=[codename],
        components=["stable"],
        architectures=[host.get_fact(DebArch) or "amd64"],
        signed_by=KEYRING,
    )


@deploy("Install and configure Docker", data_defaults=DOCKER_DEFAULTS)
def install_docker(gpu: bool = False):
    settings = settings_for(host)
    apt.packages(
        name="Install the base tools the deploy uses",
        packages=BASE_PACKAGES,
        update=True,
        cache_time=3600,
        no_recommends=True,
    )

    changes = []
    if settings["docker_install_source"] == "docker":
        repository = _official_repository(settings)
        apt.update(name="Refresh apt after adding Docker's repository", _if=repository.did_change)
        changes.append(
            apt.packages(
                name="Install Docker from Docker's apt repository",
                packages=official_package_list(settings),
                allow_downgrades=bool(settings["docker_version"]),
            )
        )
    else:
        changes.append(
            apt.packages(
                name="Install Docker from the distribution's packages",
                packages=settings["docker_distro_packages"],
                no_recommends=True,
            )
        )

    changes.append(
        files.put(
            name="Write /etc/docker/daemon.json",
            src=StringIO(daemon_json(settings, gpu=gpu)),
            dest="/etc/docker/daemon.json",
            mode="0644",
            user="root",
            group="root",
        )
    )
    systemd.service(
        name="Enable and start Docker",
        service="docker",
        running=True,
        enabled=True,
    )
    systemd.service(
        name="Restart Docker because its packages or daemon.json changed",
        service="docker",
        restarted=True,
        _if=any_changed(*changes),
    )
    if settings["docker_registry_login"]:
        docker.registry_logged_in(
            name=f"Log Docker in to {settings['docker_registry_login']}",
            registry=settings["docker_registry_login"],
            user=settings["docker_registry_user"],
            password_env=settings["docker_registry_password_env"],
        )
    for user in settings["docker_users"]:
        server.user(
            name=f"Add {user} to the docker group",
            user=user,
            groups=["docker"],
            append=True,
        )
