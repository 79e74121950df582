"""Facts about the host itself: listening ports, free disk, small state files."""

import re

from pyinfra.api import FactBase
from pyinfra.api.command import QuoteString, StringCommand

from seedcore.masking import MISSING, masked_read

_PROCESS = re.compile(r'\("([^"]+)",pid=(\d+)')
NO_SS = "--- no ss"
# The holder of a port seen only in /proc/net/tcp: its process is not known.
UNKNOWN_HOLDER = {"process": "a process (unnamed: iproute2's `ss` is not installed)", "pid": 0,
                  "container": ""}
_TCP_LISTEN = "0A"


def port_holder_problem(port: int, key: str, holder: dict, owner: str) -> str:
    """The line for `port` (data key `key`) held by `holder`, which is not `owner`
    (what may hold it: "a seedcore container", "redis-server"...)."""
    if holder == UNKNOWN_HOLDER:
        return (f"port {port} ({key}) is in use and, without iproute2's `ss`, this host cannot "
                f"say by what: install iproute2, then stop that process or move {key} to a free port")
    return (f"port {port} ({key}) is held by {holder['process']} (pid {holder['pid']}), "
            f"not by {owner}: stop it, or move {key} to a free port")


def _kernel_listeners(lines) -> dict[int, list[dict]]:
    """Listening ports from /proc/net/tcp and tcp6 lines: `sl local_address rem_address st ...`."""
    ports: dict[int, list[dict]] = {}
    for line in lines:
        fields = line.split()
        if len(fields) < 4 or fields[3] != _TCP_LISTEN or ":" not in fields[1]:
            continue
        port_hex = fields[1].rsplit(":", 1)[1]
        try:
            port = int(port_hex, 16)
        except ValueError:
            continue
        ports[port] = [dict(UNKNOWN_HOLDER)]
    return ports


class ListeningPorts(FactBase):
    """
    TCP ports listened on, each with the processes holding it and, for a
    process inside a container, that container's full ID.

    Returns ``{port: [{"process": str, "pid": int, "container": str}]}``.
    Run with sudo to see other users' processes.
    """

    @staticmethod
    def default():
        return {}

    def command(self) -> str:
        # Without iproute2 (minimal images) the kernel's socket tables still
        # name the listening ports, if not their processes.
        return (
            "if ! command -v ss >/dev/null 2>&1; then "
            f"echo '{NO_SS}'; cat /proc/net/tcp /proc/net/tcp6 2>/dev/null; exit 0; fi; "
            "s=$(ss -Hltnp 2>/dev/null); printf '%s\\n' \"$s\"; echo '--- cgroups'; "
            "for pid in $(printf '%s\\n' \"$s\" | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u); do "
            "echo \"$pid $(grep -o -m1 '[0-9a-f]\\{64\\}' /proc/$pid/cgroup 2>/dev/null | head -n1)\"; "
            "done"
        )

    def process(self, output):
        if output and output[0].strip() == NO_SS:
            return _kernel_listeners(output[1:])
        sockets, containers = [], {}
        in_cgroups = False
        for line in output:
            if line.startswith("--- cgroups"):
                in_cgroups = True
            elif in_cgroups:
                pid, _, container = line.strip().partition(" ")
                if pid.isdigit():
                    containers[int(pid)] = container.strip()
            elif line.strip():
                sockets.append(line.split())

        ports: dict[int, list[dict]] = {}
        for fields in sockets:
            if len(fields) < 4:
                continue
            local = fields[3]
            port_text = local.rsplit(":", 1)[-1]
            if not port_text.isdigit():
                continue
            holders = ports.setdefault(int(port_text), [])
            for name, pid in _PROCESS.findall(" ".join(fields[5:])):
                holder = {"process": name, "pid": int(pid), "container": containers.get(int(pid), "")}
                if holder not in holders:
                    holders.append(holder)
        return ports


class DiskAvailableMb(FactBase):
    """
    Free space, in MiB, on the filesystem holding ``path`` (or its nearest
    existing parent).

    + path: the directory to check
    """

    def command(self, path: str) -> StringCommand:
        return StringCommand(
            StringCommand("p=", QuoteString(path), _separator=""),
            '; while [ ! -e "$p" ] && [ "$p" != / ]; do p=$(dirname -- "$p"); done;',
            "df -Pk -- \"$p\" | awk 'NR==2 {print int($4/1024)}'",
        )

    def process(self, output):
        text = "".join(output).strip()
        return int(text) if text.isdigit() else None


class FileText(FactBase):
    """
    The text of a small file, or ``None`` when it does not exist.

    + path: the file to read
    """

    def command(self, path: str) -> StringCommand:
        return StringCommand("cat", QuoteString(path), "2>/dev/null || true")

    def process(self, output):
        return "\n".join(output)


class EpochSeconds(FactBase):
    """The host's clock, in seconds since the epoch."""

    def command(self) -> str:
        return "date +%s"

    def process(self, output):
        return int("".join(output).strip())


class ActiveFirewalls(FactBase):
    """
    The firewall managers active on the host, of those that would fight the
    deploy's own rules: ``ufw`` (``ufw status``: active) and ``firewalld``
    (``firewall-cmd --state``: running). Run with sudo (ufw needs root).

    Returns a sorted list of names; ``[]`` when neither is active.
    """

    @staticmethod
    def default():
        return []

    def command(self) -> str:
        return (
            "if command -v ufw >/dev/null 2>&1 && timeout 10 ufw status 2>/dev/null "
            "| grep -q '^Status: active'; then echo ufw; fi; "
            "if command -v firewall-cmd >/dev/null 2>&1 && timeout 10 firewall-cmd --state 2>/dev/null "
            "| grep -qx running; then echo firewalld; fi; true"
        )

    def process(self, output):
        return sorted({line.strip() for line in output if line.strip() in ("ufw", "firewalld")})


class SudoAccess(FactBase):
    """
    How the SSH user gets root on the host, asked without root and without a
    prompt: ``root`` (it is root), ``passwordless`` (sudo asks nothing),
    ``password`` (sudo asks for a password) or ``no-sudo`` (no sudo command).
    Read with ``_sudo=False``: through sudo, a sudo that asks would prompt.
    """

    @staticmethod
    def default():
        return ""

    def command(self) -> str:
        # sudo's own complaint goes to /dev/null: pyinfra prompts for a password when it sees it.
        return ('if [ "$(id -u)" = 0 ]; then echo root; '
                "elif sudo -n true 2>/dev/null; then echo passwordless; "
                "elif command -v sudo >/dev/null 2>&1; then echo password; else echo no-sudo; fi")

    def process(self, output):
        return "".join(output).strip()


class MaskedFileText(FactBase):
    """
    The text of a file that may hold secrets, with every secret's entry masked on
    the host (seedcore/masking.py `masked_read`: its name and a digest, never its
    value), or ``None`` when it does not exist. Run with sudo for a root-only file.

    + path: the file to read
    + keys: the names of the variables whose values are secrets
    """

    def command(self, path: str, keys: list[str]) -> str:
        return masked_read(path, keys)

    def process(self, output):
        text = "\n".join(output)
        return None if text.strip() == MISSING else text
