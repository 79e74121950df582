"""Operations on a host's Docker engine. Each reads facts, decides, and yields
commands or calls ``host.noop``."""

import hashlib
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


# Where each host keeps the digest of the login it last made, one root-only file per registry.
LOGINS_DIR = "/etc/seedcore/registry-logins"
# PBKDF2 rounds for that digest: slow to guess a password from, quick enough once per host.
LOGIN_DIGEST_ROUNDS = 100_000


def login_record(registry: str) -> str:
    """The host's record of its login to `registry`."""
    return f"{LOGINS_DIR}/{hashlib.sha256(registry.encode()).hexdigest()[:16]}"


def login_digest(registry: str, user: str, password: str) -> str:
    """What the host keeps of a login: a salted, slow digest of the user and password
    (never the password), so a rotated password or another user logs in again."""
    salt = f"seedcore registry login\0{registry}\0{user}".encode()
    return hashlib.pbkdf2_hmac("sha256", password.encode(), salt, LOGIN_DIGEST_ROUNDS).hex()


@operation()
def registry_logged_in(registry: str, user: str, password_env: str):
    """
    Log the host's Docker into a registry unless it already is with this user
    and password. The password is read from the control machine's environment
    variable ``password_env`` and sent through the SSH channel's stdin to
    ``--password-stdin``: it never appears on a command line, in a file on the
    host, in pyinfra's output or in data. The host keeps a digest of the login
    (``login_digest``, root only): another user or a rotated password logs in
    again, replacing the old credentials.

    + registry: the registry address
    + user: the registry user
    + password_env: the environment variable holding the password

    **Example:**

    .. code:: python

        docker.registry_logged_in(name="Log in to the registry",
                                  registry="registry.example.com", user="deploy",
                                  password_env="SEEDCORE_REGISTRY_PASSWORD")
    """
    password = os.environ.get(password_env, "")
    digest = login_digest(registry, user, password)
    record = login_record(registry)
    if (logged_in(host.get_fact(FileText, path=DOCKER_CONFIG), registry)
            and (host.get_fact(FileText, path=record) or "").strip() == digest):
        host.noop(f"already logged in to {registry} as {user}")
        return
    yield with_stdin(commands.registry_login(registry, user, record), f"{digest}\n{password}")
