"""Operations on a host's Docker engine. Each reads facts, decides, and yields
commands or calls ``host.noop``."""

import json
import os
from io import StringIO

from pyinfra import host
from pyinfra.api import operation
from pyinfra.api.command import FileUploadCommand

from deploy.facts.host import FileText

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
    uploaded to a root-only file, piped to ``--password-stdin`` and removed:
    it never appears on a command line, in pyinfra's output or in data.

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
    yield f"install -m 0600 /dev/null {PASSWORD_FILE}"
    yield FileUploadCommand(StringIO(os.environ.get(password_env, "")), PASSWORD_FILE)
    yield (
        f"docker login --username {user} --password-stdin {registry} < {PASSWORD_FILE}; "
        f"status=$?; rm -f {PASSWORD_FILE}; exit $status"
    )
