"""Operations on a host's Docker engine. Each reads facts, decides, and yields
commands or calls ``host.noop``."""

import hashlib
import json
import os

from pyinfra import host
from pyinfra.api import operation
from pyinfra.facts.files import Sha256File

from seedcore import commands
from seedcore.facts.host import FileText
from seedcore.families import family_of
from seedcore.hostfacts import read_fact
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


def engine_restart_reasons(daemon_json: str, packages: list[str]) -> list[str]:
    """Why Docker needs a restart, read from facts: daemon.json on the host is
    not the rendered text (compared by SHA-256, as ``system.text_file`` compares
    it), or a wanted package is not installed at its pin. Both are read from
    the host's bundled facts (``read_fact``)."""
    reasons = []
    if read_fact(host, Sha256File, path=DAEMON_JSON) != hashlib.sha256(daemon_json.encode()).hexdigest():
        reasons.append(f"{DAEMON_JSON} changes")
    if family_of(host).missing_packages(host, packages):
        reasons.append("Docker's packages change")
    return reasons


@operation()
def engine_restarted(daemon_json: str, packages: list[str], changes: tuple = (), first_install=None):
    """
    Restart Docker when its packages or daemon.json change, and only then.

    While the run is planned (and under ``--dry``) the facts decide: the host's
    daemon.json is not ``daemon_json``, or a package of ``packages`` is not
    installed at its pin. Once the run executes, the steps in ``changes`` have
    already run and the facts show their outcome, so their results decide.

    Docker installed for the first time in this run needs no restart: its
    package starts it, and daemon.json is written before the packages, so it
    starts with it. ``first_install`` is that install step, given only where
    Docker was absent when the run began.

    + daemon_json: the daemon.json text the deploy writes
    + packages: the packages Docker comes from ("name" or "name=version")
    + changes: the operations that install those packages and write daemon.json
    + first_install: the package step, where Docker was absent when the run began

    **Example:**

    .. code:: python

        docker.engine_restarted(name="Restart Docker because its packages or daemon.json changed",
                                daemon_json=text, packages=["docker.io"], changes=[put, install])
    """
    first = "Docker is installed for the first time, after daemon.json: its package starts it with it"
    if host.state.is_executing:
        if first_install is not None and first_install.did_change():
            host.noop(first)
            return
        if not any(change.did_change() for change in changes):
            host.noop("neither Docker's packages nor daemon.json changed")
            return
    elif first_install is not None:
        host.noop(first)
        return
    elif not engine_restart_reasons(daemon_json, packages):
        host.noop("Docker's packages and daemon.json are as wanted")
        return
    yield commands.restart_docker()
