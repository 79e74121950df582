"""Operations on a host's Docker engine. Each reads facts, decides, and yields
commands or calls ``host.noop``."""

import json
import os

from pyinfra import host
from pyinfra.api import operation

from deploy import commands
from deploy.facts.host import FileText
from deploy.operations.secret_files import upload_root_only

DOCKER_CONFIG = "/root/.docker/config.json"
PASSWORD_FILE = "/root/.seedcore-registry-password"


def logged_in(config_text: str | None, registry: str) -> bool:
    try:
        return registry in (json.loads(config_text or "{}").get("auths") or {})
    except ValueError:
        return False


@operation()
def registry_logged_in(registry: str, user: str, password_env: str):
    """
    Log the host's Docker into a registry unless it already is. The password
    is read from the control machine's environment variable ``password_env``,
    uploaded to a root-only file (never readable by another user, even while
    it is written: see ``secret_files``), piped to ``--password-stdin`` and
    removed: it never appears on a command line, in pyinfra's output or in data.

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
    yield from upload_root_only(os.environ.get(password_env, ""), PASSWORD_FILE)
    yield commands.registry_login(registry, user, PASSWORD_FILE)
