"""Lab hosts: containers that boot systemd and behave like bare Debian 12 or 13 servers.

Public API for tests: `listed()`, `exec(name, command)`, `recreate(name)`.
"""

import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from lab import docker, log, ssh
from lab.config import (
    DISTRO_LABEL,
    HOST_CONCURRENCY,
    HOST_PREFIX,
    INDEX_LABEL,
    LABEL,
    NETWORK,
    ROLE_LABEL,
    SSH_USER,
    host_ip,
    host_name,
    host_volume,
)
from lab.errors import LabError

# The flags that let systemd run as PID 1 on this engine without --privileged
# (the machine's capability bounding set lacks CAP_SYS_RESOURCE).
SYSTEMD_FLAGS = [
    "--cap-add",
    "ALL",
    "--cap-drop",
    "SYS_RESOURCE",
    "--security-opt",
    "seccomp=unconfined",
    "--security-opt",
    "apparmor=unconfined",
    "--security-opt",
    "systempaths=unconfined",
    "--device-cgroup-rule",
    "a *:* rwm",
    "--cgroupns",
    "private",
    "--tmpfs",
    "/run",
    "--tmpfs",
    "/run/lock",
]
BOOTED = ("running", "degraded")
READY_TIMEOUT = 120
AUTHORIZE_TIMEOUT = 30
INOTIFY_INSTANCES = Path("/proc/sys/fs/inotify/max_user_instances")
# systemd in each host takes about 5 inotify instances from the machine-wide
# limit (128 by default, about 20 hosts across every lab on the engine).
INOTIFY_INSTANCES_PER_HOST = 8
INOTIFY_INSTANCES_FLOOR = 1024


def raise_inotify_limit(hosts_wanted: int, path: Path = INOTIFY_INSTANCES) -> str:
    """Raise fs.inotify.max_user_instances (root only) so `hosts_wanted` more
    systemd hosts can boot; returns what was done, "" when nothing was."""
    if not path.exists():
        return ""
    current = int(path.read_text().strip())
    wanted = max(INOTIFY_INSTANCES_FLOOR, INOTIFY_INSTANCES_PER_HOST * hosts_wanted * 2)
    if current >= wanted:
        return ""
    try:
        path.write_text(f"{wanted}\n")
    except OSError as error:
        return f"could not raise fs.inotify.max_user_instances from {current} to {wanted}: {error}"
    return (f"raised fs.inotify.max_user_instances from {current} to {wanted} "
            "(systemd in every lab host needs some)")


def role_for(index: int) -> str:
    return "head" if index == 1 else "worker"


def index_of(name: str) -> int:
    suffix = name.removeprefix(HOST_PREFIX)
    if not name.startswith(HOST_PREFIX) or not suffix.isdigit() or int(suffix) < 1:
        raise LabError(f"{name!r} is not a lab host name ({HOST_PREFIX}N)")
    return int(suffix)


def listed() -> list[dict]:
    """Every lab host container: name, ip, role, index, distro, running, image; ordered by index."""
    hosts = []
    for name in docker.lab_objects("container"):
        if not name.startswith(HOST_PREFIX) or not name.removeprefix(HOST_PREFIX).isdigit():
            continue
        found = docker.inspect("container", name)
        if found is None:
            continue
        labels = docker.labels_of(found)
        network = (found["NetworkSettings"]["Networks"] or {}).get(NETWORK) or {}
        hosts.append(
            {
                "name": name,
                "ip": network.get("IPAddress", ""),
                "role": labels.get(ROLE_LABEL, ""),
                "index": int(labels.get(INDEX_LABEL, "0")),
                "distro": labels.get(DISTRO_LABEL, ""),
                "running": bool(found["State"]["Running"]),
                "image": found["Config"]["Image"],
            }
        )
    return sorted(hosts, key=lambda host: host["index"])


def remove(name: str) -> None:
    """Remove a host container and its /var/lib/docker volume (lab objects only)."""
    found = docker.inspect("container", name)
    if found is not None:
        if docker.labels_of(found).get(LABEL) != "1":
            raise LabError(f"a container named {name} exists that the lab did not create")
        docker.run("container", "rm", "--force", name, timeout=120)
    volume = docker.inspect("volume", host_volume(name))
    if volume is not None and docker.labels_of(volume).get(LABEL) == "1":
        docker.run("volume", "rm", host_volume(name), timeout=120)


def create(index: int, image: str, distro: str) -> str:
    """Start host `index` bare from `image` (Debian `distro`), with a fresh docker volume; return its name."""
    name = host_name(index)
    boot(name, host_ip(index), image, distro, role_for(index), index)
    return name


def boot(name: str, ip: str, image: str, distro: str, role: str, index: int = 0) -> None:
    """Start the systemd container `name` at `ip`, bare, with a fresh docker volume."""
    remove(name)
    volume = host_volume(name)
    docker.run("volume", "create", *docker.label_args(), volume)
    docker.run(
        "run",
        "--detach",
        "--name",
        name,
        "--hostname",
        name,
        *docker.label_args(),
        "--label",
        f"{ROLE_LABEL}={role}",
        "--label",
        f"{INDEX_LABEL}={index}",
        "--label",
        f"{DISTRO_LABEL}={distro}",
        "--network",
        NETWORK,
        "--ip",
        ip,
        *SYSTEMD_FLAGS,
        "--volume",
        f"{volume}:/var/lib/docker",
        image,
    )


def authorize(name: str, user: str = SSH_USER) -> None:
    """Write the lab's public key as `user`'s only authorized key."""
    home = f"/home/{user}/.ssh"
    script = (
        f"install -d -m 700 -o {user} -g {user} {home} && "
        f"cat > {home}/authorized_keys && "
        f"chown {user}:{user} {home}/authorized_keys && chmod 600 {home}/authorized_keys"
    )
    # A host just started may still be setting itself up (its entrypoint remounts
    # /sys and the cgroups before systemd): an early exec can fail, so try again.
    deadline = time.monotonic() + AUTHORIZE_TIMEOUT
    while True:
        result = docker.exec_in(name, script, input=ssh.public_key(), timeout=30)
        if result.returncode == 0:
            return
        if problem := exited_problem(name):
            raise LabError(problem)
        if time.monotonic() > deadline:
            detail = result.stderr.strip() or f"exit status {result.returncode}"
            raise LabError(f"{name}: writing authorized_keys failed: {detail}")
        time.sleep(0.5)


def system_state(name: str) -> str:
    """`systemctl is-system-running` inside the host ('' when it cannot be asked)."""
    try:
        result = docker.exec_in(name, "systemctl is-system-running", timeout=15)
    except LabError:
        return ""
    return result.stdout.strip()


def exited_problem(name: str) -> str:
    """Why host `name` is not running, with the usual cause named ('' while it runs)."""
    found = docker.inspect("container", name)
    if found is None or found["State"]["Running"]:
        return ""
    code = found["State"]["ExitCode"]
    limit = INOTIFY_INSTANCES.read_text().strip() if INOTIFY_INSTANCES.exists() else "?"
    return (f"{name}: exited (status {code}) while booting; systemd exits when it gets no inotify "
            f"instance: fs.inotify.max_user_instances is {limit} on this machine, shared by every "
            "systemd host on the engine (about 5 each): run fewer hosts or raise it")


def _wait_one(name: str, ip: str, deadline: float) -> tuple[str, list[str]]:
    """Wait until systemd has booted, sshd answers, and SSH + sudo work; return the host keys."""
    waiting_on = "systemd to finish booting"
    keys: list[str] = []
    while time.monotonic() < deadline:
        if waiting_on.startswith("systemd"):
            booted = system_state(name)
            if booted in BOOTED:
                waiting_on = "sshd to answer on port 22"
            elif not booted and (problem := exited_problem(name)):
                return problem, keys
        if waiting_on.startswith("sshd"):
            keys = ssh.keyscan(ip)
            if keys:
                return "", keys
        time.sleep(0.3)
    state = system_state(name) or "unknown"
    return f"{name}: gave up waiting for {waiting_on} (systemd state: {state})", keys


def _wait_login(host: dict, timeout: float) -> str:
    """'' once SSH as the lab user with `sudo -n true` works, else the problem."""
    deadline = time.monotonic() + timeout
    while not ssh.check(host["ip"]):
        if time.monotonic() > deadline:
            return (
                f"{host['name']}: ssh {SSH_USER}@{host['ip']} with `sudo -n true` did not succeed "
                f"within {timeout:.0f} s"
            )
        time.sleep(0.5)
    return ""


def wait_ready(hosts: list[dict], timeout: float = READY_TIMEOUT) -> None:
    """Bring every host to 'SSH as the lab user with host keys checked, and sudo -n works'.

    At most HOST_CONCURRENCY hosts are polled at once; each gets `timeout` from
    the moment its own wait starts, so a long queue does not eat a late host's time."""
    workers = max(1, min(len(hosts), HOST_CONCURRENCY))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(lambda h: _wait_one(h["name"], h["ip"], time.monotonic() + timeout), hosts))
    problems = [problem for problem, _ in results if problem]
    if problems:
        raise LabError("; ".join(problems) + f" (after {timeout:.0f} s)")
    ssh.replace_known_hosts({host["ip"]: keys for host, (_, keys) in zip(hosts, results, strict=True)})
    with ThreadPoolExecutor(max_workers=workers) as pool:
        problems = [problem for problem in pool.map(lambda h: _wait_login(h, timeout), hosts) if problem]
    if problems:
        raise LabError("; ".join(problems))


def exec(name: str, command: str, timeout: float = 300, check: bool = False) -> subprocess.CompletedProcess:
    """Run `command` (a shell line) as root inside host `name`, bypassing SSH."""
    if docker.inspect("container", name) is None:
        raise LabError(f"no lab host named {name}")
    return docker.exec_in(name, command, timeout=timeout, check=check)


def start(index: int, image: str, distro: str) -> dict:
    """Create host `index` bare and authorize the lab key; return its (not yet ready) entry."""
    name = create(index, image, distro)
    authorize(name)
    log.info(f"started {name} at {host_ip(index)} ({role_for(index)}, Debian {distro})")
    return {"name": name, "ip": host_ip(index), "role": role_for(index), "index": index, "distro": distro}
