"""Operations on a host's Docker engine. Each reads facts, decides, and yields
commands or calls ``host.noop``."""

import json
import os

from pyinfra import host
from pyinfra.api import operation

from seedcore import commands
from seedcore.facts.host import FileText
from seedcore.operations.secret_files import with_stdin

DOCKER_CONFIG = "/root/.docker/config.json"
DAEMON_JSON = "/etc/docker/daemon.json"


def logged_in(config_text: str | None, registry: str) -> bool:
    try:
        return registry in (json.loads(config_text or "{}").get("auths") or {})
    except ValueError:
        return False


@operation()
def registry_logged_in(registry: str, user: str, password_env: str):
    """
    Log the host's Docker into a registry unless it already is. The password
    is read from the control machine's environment variable ``password_env``
    and sent through the SSH channel's stdin to ``--password-stdin``: it never
    appears on a command line, in a file on the host, in pyinfra's output or
    in data.

    + registry: the registry address
    + user: the registry user
    + password_env: the environment variable holding the password

    **Example:**

    .. code:: python

        docker.registry_logged_in(name="Log in to the registry",
                                  registry="registry.example.com", user="deploy",
                                  password_env="SEEDCORE_REGISTRY_PASSWORD")
    """
    if logged_in(host.get_fact(FileText, path=DOCKER_CONFIG), registry):
        host.noop(f"already logged in to {registry}")
        return
    yield with_stdin(commands.registry_login(registry, user), os.environ.get(password_env, ""))
