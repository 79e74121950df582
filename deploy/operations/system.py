"""pyinfra's own package, directory, file and service operations, asked first
of the host's bundled facts.

Each operation reads what pyinfra's operation for the same job reads, but
through ``read_fact`` (deploy/hostfacts.py): while the host's snapshot holds,
a host that already is as asked costs no SSH round trip, where pyinfra 3
reads every fact with its own command, each time. When something is to
change, pyinfra's own operation decides and acts exactly as it always does,
reading its facts afresh.
"""

import hashlib
from io import StringIO

from pyinfra import host
from pyinfra.api import operation
from pyinfra.api.command import QuoteString, StringCommand
from pyinfra.facts.deb import DebPackages
from pyinfra.facts.files import Directory, File, Sha256File
from pyinfra.facts.systemd import SystemdEnabled, SystemdStatus
from pyinfra.operations import apt, files, systemd
from pyinfra.operations.util.files import ensure_mode_int

from deploy.facts.apt import packages_missing
from deploy.hostfacts import read_fact


def owned_as_asked(stat: dict | bool | None, mode: str | int | None, user: str | None,
                   group: str | None) -> bool:
    """Whether a File or Directory fact has the mode and owner asked (None: any).
    The mode is read as pyinfra's files operations read it ("0644", "644" and
    "0o644" are the fact's 644; a symbolic mode never matches, so it is applied)."""
    return bool(
        stat
        and (mode is None or stat.get("mode") == ensure_mode_int(mode))
        and (user is None or stat.get("user") == user)
        and (group is None or stat.get("group") == group)
    )


def unit_name(service: str) -> str:
    """systemd's name for a service: "docker" -> "docker.service"."""
    return service if "." in service else f"{service}.service"


def service_reads(service: str) -> list:
    """The facts ``service`` reads for this service, as [Fact, kwargs] pairs."""
    return [[SystemdStatus, {"services": [unit_name(service)]}],
            [SystemdEnabled, {"services": [unit_name(service)]}]]


def file_reads(path: str) -> list:
    """The facts ``text_file`` reads for this path."""
    return [[Sha256File, {"path": path}], [File, {"path": path}]]


@operation()
def packages(packages: list[str], update: bool = False, cache_time: int | None = None,
             no_recommends: bool = False, allow_downgrades: bool = False):
    """
    Install apt packages unless every one is installed as asked; apt's lists
    are refreshed (``update``) only when a package is to be installed.

    + packages: "name" or "name=version"
    + update: run ``apt-get update`` before installing
    + cache_time: with ``update``, skip it when apt's lists are this recent (seconds)
    + no_recommends: install without recommended packages
    + allow_downgrades: allow a pinned version older than the installed one

    **Example:**

    .. code:: python

        system.packages(name="Install the base tools the deploy uses",
                        packages=["ca-certificates", "curl"], update=True, cache_time=3600)
    """
    if not packages_missing(read_fact(host, DebPackages) or {}, packages):
        host.noop(f"installed: {', '.join(packages)}")
        return
    yield from apt.packages._inner(packages=packages, update=update, cache_time=cache_time,
                                   no_recommends=no_recommends, allow_downgrades=allow_downgrades)


@operation()
def directory(path: str, mode: str | None = None, user: str | None = None, group: str | None = None):
    """
    Create a directory, with this mode and owner, unless it already is so.

    + path: the directory on the host
    + mode, user, group: what it must have (None: left as it is)

    **Example:**

    .. code:: python

        system.directory(name="Create the project directory /opt/seedcore", path="/opt/seedcore",
                         mode="0755", user="root", group="root")
    """
    if owned_as_asked(read_fact(host, Directory, path=path), mode, user, group):
        host.noop(f"directory {path} exists")
        return
    yield from files.directory._inner(path=path, mode=mode, user=user, group=group)


@operation()
def text_file(text: str, dest: str, mode: str, user: str = "root", group: str = "root"):
    """
    Write ``text`` to ``dest`` with this mode and owner, unless the file
    already has that content (compared by SHA-256), mode and owner. For files
    anyone on the host may read; secrets go through ``secret_files``.

    + text: the file's content
    + dest: the file on the host
    + mode, user, group: what the file must have

    **Example:**

    .. code:: python

        system.text_file(name="Write /etc/docker/daemon.json", text='{"log-driver": "json-file"}\\n',
                         dest="/etc/docker/daemon.json", mode="0644")
    """
    digest = read_fact(host, Sha256File, path=dest)
    if digest == hashlib.sha256(text.encode()).hexdigest() and owned_as_asked(
            read_fact(host, File, path=dest), mode, user, group):
        host.noop(f"{dest} is up to date")
        return
    yield from files.put._inner(src=StringIO(text), dest=dest, mode=mode, user=user, group=group)


@operation()
def service(service: str, running: bool = True, enabled: bool = True, restarted: bool = False,
            reloaded: bool = False):
    """
    Keep a systemd service running and enabled; with ``restarted`` or
    ``reloaded``, restart or reload it only when it is running (as pyinfra's
    ``systemd.service`` does). A stopped service is then left to the step
    that starts it, where pyinfra's own would start it here.

    + service: the unit ("docker" means "docker.service")
    + running, enabled: what it must be
    + restarted, reloaded: restart or reload it (give ``_if=`` to do so only after a change)

    **Example:**

    .. code:: python

        system.service(name="Enable and start Docker", service="docker")
    """
    unit = unit_name(service)
    is_running = read_fact(host, SystemdStatus, services=[unit]).get(unit)
    if restarted or reloaded:
        if is_running:
            yield StringCommand("systemctl", "restart" if restarted else "reload", QuoteString(unit))
        else:
            host.noop(f"service {unit} is not running: nothing to {'restart' if restarted else 'reload'}")
        return
    is_enabled = read_fact(host, SystemdEnabled, services=[unit]).get(unit)
    if bool(is_running) == running and bool(is_enabled) == enabled:
        host.noop(f"service {unit} is {'running' if running else 'stopped'} and "
                  f"{'enabled' if enabled else 'disabled'}")
        return
    yield from systemd.service._inner(service=unit, running=running, enabled=enabled)
