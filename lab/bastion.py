"""The bastion lab (`python -m lab up --bastion`).

One more systemd host, `<lab>-bastion` at the subnet's .9, takes SSH logins as
its own user (`jump`, not the hosts' `seedcore`). A guard on this machine (an
iptables chain of the lab's own, jumped to from OUTPUT) resets every TCP
connection this machine opens to a lab host's address, port 22 included, so
the hosts are reachable only through the bastion, as production hosts behind
a bastion are. The registry, the apt mirror and the bastion itself stay
reachable (they are not hosts). `.lab/ssh_config` says how to hop: pyinfra
reads it through the inventory's `ssh_config_file`, the lab's own ssh through
`ssh -F`.
"""

import hashlib
import subprocess
import time

from lab import docker, hosts, log, ssh
from lab.config import (
    BASTION_ALIAS,
    BASTION_NAME,
    BASTION_USER,
    FIRST_HOST_OFFSET,
    KNOWN_HOSTS,
    LAB_NAME,
    SSH_CONFIG,
    SSH_KEY,
    SUBNET,
    bastion_ip,
)
from lab.errors import LabError

CHAIN = "SCLAB-" + hashlib.sha1(LAB_NAME.encode()).hexdigest()[:12].upper()
READY_TIMEOUT = 120
IPTABLES_TIMEOUT = 30


def hosts_range() -> str:
    """The addresses lab hosts take (host N is at .10 + N), as an iprange."""
    first = SUBNET.network_address + FIRST_HOST_OFFSET + 1
    return f"{first}-{SUBNET.broadcast_address - 1}"


def guard_rule() -> list[str]:
    """The chain's one rule: a new TCP connection to a host address is reset."""
    return ["-p", "tcp", "--syn", "-m", "iprange", "--dst-range", hosts_range(),
            "-j", "REJECT", "--reject-with", "tcp-reset"]


def _iptables(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    try:
        result = subprocess.run(["iptables", "-w", "10", *args], capture_output=True, text=True,
                                timeout=IPTABLES_TIMEOUT)
    except FileNotFoundError:
        raise LabError("iptables is missing (package iptables): run scripts/ensure-docker.sh") from None
    except subprocess.TimeoutExpired:
        raise LabError(f"iptables {' '.join(args)} did not finish within {IPTABLES_TIMEOUT} s") from None
    if check and result.returncode != 0:
        raise LabError(f"iptables {' '.join(args)} failed: {result.stderr.strip()}")
    return result


def guarded() -> bool:
    """True while this machine's OUTPUT jumps to the guard chain."""
    return _iptables("-C", "OUTPUT", "-j", CHAIN, check=False).returncode == 0


def guard_on() -> None:
    """Reset this machine's TCP connections to every lab host (idempotent)."""
    if _iptables("-n", "-L", CHAIN, check=False).returncode != 0:
        _iptables("-N", CHAIN)
    _iptables("-F", CHAIN)
    _iptables("-A", CHAIN, *guard_rule())
    if not guarded():
        _iptables("-I", "OUTPUT", "1", "-j", CHAIN)


def guard_off() -> None:
    """Remove the guard, if any: this machine reaches the hosts directly again."""
    while guarded():
        _iptables("-D", "OUTPUT", "-j", CHAIN)
    if _iptables("-n", "-L", CHAIN, check=False).returncode == 0:
        _iptables("-F", CHAIN)
        _iptables("-X", CHAIN)


def ssh_config_text() -> str:
    """The ssh config the inventory and the lab's ssh use: the bastion by its
    alias, as its own user; every host address through it."""
    ip = bastion_ip()
    return "\n".join([
        "# Written by `python -m lab up --bastion`; removed by `up` without it and by `down`.",
        f"Host {BASTION_ALIAS}",
        f"    HostName {ip}",
        f"    User {BASTION_USER}",
        f"    IdentityFile {SSH_KEY}",
        "    IdentitiesOnly yes",
        f"    UserKnownHostsFile {KNOWN_HOSTS}",
        "    StrictHostKeyChecking yes",
        "    ConnectTimeout 10",
        "",
        f"Host {SUBNET.network_address.exploded.rsplit('.', 1)[0]}.* !{ip}",
        f"    ProxyJump {BASTION_ALIAS}",
        "",
    ])


def _running_image(name: str) -> str:
    found = docker.inspect("container", name)
    return found["Config"]["Image"] if found and found["State"]["Running"] else ""


def ensure(image: str, distro: str) -> dict:
    """The bastion running from `image`, its user authorized with the lab key,
    its host keys in the lab's known_hosts, the ssh config written; its state entry."""
    ip = bastion_ip()
    if _running_image(BASTION_NAME) != image:
        log.step(f"creating the bastion {BASTION_NAME} at {ip}")
        hosts.boot(BASTION_NAME, ip, image, distro, role="bastion")
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        made = docker.exec_in(BASTION_NAME, f"id -u {BASTION_USER} >/dev/null 2>&1 || "
                              f"useradd --create-home --shell /bin/sh {BASTION_USER}", timeout=30)
        if made.returncode == 0:
            break
        if time.monotonic() > deadline:
            raise LabError(f"{BASTION_NAME}: adding user {BASTION_USER} failed: {made.stderr.strip()}")
        time.sleep(0.5)
    hosts.authorize(BASTION_NAME, BASTION_USER)
    while not (keys := ssh.keyscan(ip)):
        if time.monotonic() > deadline:
            raise LabError(f"{BASTION_NAME}: sshd did not answer on {ip}:22 within {READY_TIMEOUT} s")
        time.sleep(0.5)
    ssh.replace_known_hosts({ip: keys})
    SSH_CONFIG.write_text(ssh_config_text())
    return {"name": BASTION_NAME, "ip": ip, "user": BASTION_USER, "alias": BASTION_ALIAS,
            "ssh_config": str(SSH_CONFIG)}


def remove() -> None:
    """No guard, no bastion, no ssh config."""
    guard_off()
    if docker.inspect("container", BASTION_NAME) is not None:
        log.step(f"removing the bastion {BASTION_NAME}")
        hosts.remove(BASTION_NAME)
    SSH_CONFIG.unlink(missing_ok=True)
