"""Docker on every host: packages (the host's OS family installs them, see
seedcore/families), daemon.json, the service, the docker group."""

from io import StringIO

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import files, server, systemd

from seedcore.changes import after_change
from seedcore.defaults import DOCKER_DEFAULTS
from seedcore.facts.docker import DockerEngine
from seedcore.families import family_of
from seedcore.hostfacts import file_reads, read_fact, service_reads
from seedcore.operations import docker
from seedcore.render import daemon_json
from seedcore.tasks.firewall import firewall_refreshes_lists
from seedcore.topology import settings_for

DAEMON_JSON = "/etc/docker/daemon.json"


def docker_reads() -> list:
    """The facts the Docker steps read beyond the family's install steps."""
    return [*file_reads(DAEMON_JSON), *service_reads("docker")]


@deploy("Install and configure Docker", data_defaults=DOCKER_DEFAULTS)
def install_docker(gpu: bool = False):
    settings = settings_for(host)
    family = family_of(host)
    # The host firewall, installed first, may have refreshed the package lists already.
    lists_refreshed = family.install_base_tools(lists_refreshed=firewall_refreshes_lists(host))
    daemon = daemon_json(settings, gpu=gpu)
    # daemon.json goes first: a Docker installed for the first time then starts with it.
    changes = family.install_docker(settings, before_packages=lambda: files.put(
        name="Write /etc/docker/daemon.json", src=StringIO(daemon), dest=DAEMON_JSON, mode="0644",
        user="root", group="root"), lists_refreshed=lists_refreshed)
    systemd.service(name="Enable and start Docker", service="docker", running=True, enabled=True)
    # Docker installed for the first time in this run needs no restart: its
    # package starts it, after daemon.json was written.
    first_install = not read_fact(host, DockerEngine)["installed"]
    if not first_install and (changed := after_change(*changes)):
        systemd.service(name="Restart Docker because its packages or daemon.json changed", service="docker",
                        restarted=True, _if=changed)
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
