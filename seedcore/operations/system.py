"""Packages, directories, files and services, decided from the host's bundled facts.

The same jobs as pyinfra's ``apt.packages``, ``files.directory``,
``files.put`` and ``systemd.service``, deciding from the facts those read,
but through ``read_fact`` (seedcore/hostfacts.py): while the host's snapshot
holds, neither a host already as asked nor one still to change costs an SSH
round trip to decide, where pyinfra 3 reads every fact with its own command,
each time.
"""

import hashlib

from pyinfra import host, logger
from pyinfra.api import OperationError, operation
from pyinfra.api.command import QuoteString, StringCommand
from pyinfra.facts.deb import DebPackages
from pyinfra.facts.files import Directory, File, FileContents, Sha256File
from pyinfra.facts.systemd import SystemdEnabled, SystemdStatus

from seedcore import commands
from seedcore.facts.apt import missing_packages
from seedcore.hostfacts import read_fact
from seedcore.operations.secret_files import with_stdin
from seedcore.pyinfra_seam import color_diff, ensure_mode_int, noninteractive_apt


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


def show_diff(dest: str, text: str, existed: bool) -> None:
    """Under --diff, the change to `dest` as pyinfra's files.put shows it."""
    current = (host.get_fact(FileContents, path=dest) or []) if existed else []
    host.log(f"Will {'modify' if existed else 'create'} {dest}", logger.info)
    for line in color_diff([line + "\n" for line in current], text.splitlines(keepends=True)):
        logger.info("  %s", line)
    logger.info("")


def apt_install(packages: list[str], no_recommends: bool = False,
                allow_downgrades: bool = False) -> StringCommand:
    """apt-get install of `packages`, non-interactive, keeping changed config files."""
    options = (["--no-install-recommends"] if no_recommends else []) + (
        ["--allow-downgrades"] if allow_downgrades else [])
    return StringCommand(noninteractive_apt("install"), *options, *[QuoteString(p) for p in packages])


@operation()
def packages(packages: list[str], update: bool = False, no_recommends: bool = False,
             allow_downgrades: bool = False):
    """
    Install those of ``packages`` not installed as asked; with ``update``,
    refresh apt's lists first, only when something is to be installed.

    + packages: "name" or "name=version"
    + update: run ``apt-get update`` before installing
    + no_recommends: install without recommended packages
    + allow_downgrades: allow a pinned version older than the installed one

    **Example:**

    .. code:: python

        system.packages(name="Install the base tools the deploy uses",
                        packages=["ca-certificates", "curl"], update=True)
    """
    missing = missing_packages(read_fact(host, DebPackages) or {}, packages)
    if not missing:
        host.noop(f"installed: {', '.join(packages)}")
        return
    if update:
        yield noninteractive_apt("update")
    yield apt_install(missing, no_recommends, allow_downgrades)


@operation()
def directory(path: str, mode: str | None = None, user: str | None = None, group: str | None = None):
    """
    Create a directory, and give it this mode and owner, unless it already is so.

    + path: the directory on the host
    + mode, user, group: what it must have (None: left as it is)

    **Example:**

    .. code:: python

        system.directory(name="Create the project directory /opt/seedcore", path="/opt/seedcore",
                         mode="0755", user="root", group="root")
    """
    info = read_fact(host, Directory, path=path)
    if info is False:
        raise OperationError(f"{path} exists and is not a directory: move it away, then run again")
    if owned_as_asked(info, mode, user, group):
        host.noop(f"directory {path} exists")
        return
    # One command (one round trip) for all three.
    steps: list = []
    if not info:
        steps.append(["mkdir", "-p", QuoteString(path)])
    if mode is not None and (not info or info.get("mode") != ensure_mode_int(mode)):
        steps.append(["chmod", QuoteString(str(mode)), QuoteString(path)])
    if (user or group) and not owned_as_asked(info, None, user, group):
        owner = (user or "") + (f":{group}" if group else "")
        steps.append(["chown", QuoteString(owner), QuoteString(path)])
    bits: list = []
    for step in steps:
        bits += (["&&"] if bits else []) + step
    yield StringCommand(*bits)


@operation()
def text_file(text: str, dest: str, mode: str, user: str = "root", group: str = "root"):
    """
    Write ``text`` to ``dest`` with this mode and owner, unless the file
    already has that content (compared by SHA-256), mode and owner. It is
    written beside ``dest`` and renamed over it in one step. For files anyone
    on the host may read; secrets go through ``secret_files``.

    + text: the file's content
    + dest: the file on the host
    + mode, user, group: what the file must have

    **Example:**

    .. code:: python

        system.text_file(name="Write /etc/docker/daemon.json", text='{"log-driver": "json-file"}\\n',
                         dest="/etc/docker/daemon.json", mode="0644")
    """
    digest = read_fact(host, Sha256File, path=dest)
    same_text = digest == hashlib.sha256(text.encode()).hexdigest()
    stat = read_fact(host, File, path=dest) if same_text else None
    if same_text and owned_as_asked(stat, mode, user, group):
        host.noop(f"{dest} is up to date")
        return
    if same_text:
        if not owned_as_asked(stat, mode, None, None):
            yield StringCommand("chmod", QuoteString(str(mode)), QuoteString(dest))
        if not owned_as_asked(stat, None, user, group):
            yield StringCommand("chown", QuoteString(f"{user}:{group}"), QuoteString(dest))
        return
    if getattr(getattr(host.state, "config", None), "DIFF", False) and not same_text:
        show_diff(dest, text, existed=digest is not None)
    yield from file_written(text, dest, str(mode), user, group)


def file_written(text: str, dest: str, mode: str, user: str = "root", group: str = "root"):
    """The commands that install `text` at `dest` with this owner and mode, atomically."""
    yield with_stdin(commands.file_from_stdin(dest, user, group, mode), text)


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
    is_running = bool(read_fact(host, SystemdStatus, services=[unit]).get(unit))
    if restarted or reloaded:
        action = "restart" if restarted else "reload"
        if is_running:
            yield StringCommand("systemctl", action, QuoteString(unit))
        else:
            host.noop(f"service {unit} is not running: nothing to {action}")
        return
    is_enabled = bool(read_fact(host, SystemdEnabled, services=[unit]).get(unit))
    if is_running == running and is_enabled == enabled:
        host.noop(f"service {unit} is {'running' if running else 'stopped'} and "
                  f"{'enabled' if enabled else 'disabled'}")
        return
    if is_running != running:
        yield StringCommand("systemctl", "start" if running else "stop", QuoteString(unit))
    if is_enabled != enabled:
        yield StringCommand("systemctl", "enable" if enabled else "disable", QuoteString(unit))


@operation()
def absent(path: str, installed_now: bool = False):
    """
    Remove a file or symbolic link, unless it is already gone.

    + path: the file or link on the host
    + installed_now: a package this run installs puts it there (so it is removed
      even though the host, read before the install, has none yet)

    **Example:**

    .. code:: python

        system.absent(name="Remove nginx's default site (port 80)", path="/etc/nginx/sites-enabled/default")
    """
    if read_fact(host, File, path=path) is None and not installed_now:
        host.noop(f"{path} is absent")
        return
    yield StringCommand("rm", "-f", "--", QuoteString(path))
