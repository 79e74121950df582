"""Docker on every host: packages (the host's OS family installs them, see
seedcore/families), daemon.json, the service, the docker group."""

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import server

from seedcore.defaults import DOCKER_DEFAULTS
from seedcore.facts.docker import DockerEngine
from seedcore.families import family_of
from seedcore.hostfacts import read_fact
from seedcore.operations import docker, system
from seedcore.render import daemon_json
from seedcore.tasks.firewall import firewall_refreshes_lists
from seedcore.topology import settings_for

DAEMON_JSON = "/etc/docker/daemon.json"


def docker_reads() -> list:
    """The facts the Docker steps read beyond the family's install steps."""
    return [*system.file_reads(DAEMON_JSON), *system.service_reads("docker")]


@deploy("Install and configure Docker", data_defaults=DOCKER_DEFAULTS)
def install_docker(gpu: bool = False):
    settings = settings_for(host)
    family = family_of(host)
    # The host firewall, installed first, may have refreshed the package lists already.
    lists_refreshed = family.install_base_tools(lists_refreshed=firewall_refreshes_lists(host))
    daemon = daemon_json(settings, gpu=gpu)
    # daemon.json goes first: a Docker installed for the first time then starts with it.
    changes = family.install_docker(settings, before_packages=lambda: system.text_file(
        name="Write /etc/docker/daemon.json", text=daemon, dest=DAEMON_JSON, mode="0644"),
        lists_refreshed=lists_refreshed)
    system.service(name="Enable and start Docker", service="docker")
    absent = not read_fact(host, DockerEngine)["installed"]
    docker.engine_restarted(
        name="Restart Docker because its packages or daemon.json changed",
        daemon_json=daemon,
        packages=family.docker_packages(settings),
        changes=changes,
        first_install=changes[-1] if absent else None,
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
