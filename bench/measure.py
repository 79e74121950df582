"""Small measurements the scenarios share: memory, image size, restarts, req/s."""

import re
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from lab import control as labctl

# What this machine holds (the stated limit): a size whose projected
# memory passes it is not run.
MEMORY_LIMIT_GIB = 24
# Headroom kept free for the engine, the control process and everything else.
MEMORY_HEADROOM = 0.8
UNITS = {"B": 1, "KIB": 1024, "MIB": 1024**2, "GIB": 1024**3, "KB": 1000, "MB": 1000**2, "GB": 1000**3}


def seconds(action) -> float:
    started = time.monotonic()
    action()
    return time.monotonic() - started


def mib(usage: str) -> float:
    """`docker stats` MemUsage's first half ("123.4MiB / 23.4GiB") in MiB."""
    match = re.fullmatch(r"\s*([\d.]+)\s*([KMG]?i?B)\s*", usage.split("/")[0], re.IGNORECASE)
    if not match:
        raise ValueError(f"not a docker stats memory figure: {usage!r}")
    return float(match.group(1)) * UNITS[match.group(2).upper()] / 1024**2


def host_memory_mib(state: dict, role: str = "") -> float:
    """The largest memory use among the lab's hosts of `role` (any role when ""), from
    `docker stats --no-stream`: everything inside the host counted (systemd, sshd, its
    nested engine and containers)."""
    names = [host["name"] for host in state["hosts"] if host["role"] == role or not role]
    if not names:
        raise RuntimeError(f"no lab host with role {role}")
    out = subprocess.run(["docker", "stats", "--no-stream", "--format", "{{.Name}}\t{{.MemUsage}}", *names],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    return max(mib(line.split("\t")[1]) for line in out.splitlines() if "\t" in line)


def available_mib() -> float:
    """MemAvailable, capped at MEMORY_LIMIT_GIB."""
    with open("/proc/meminfo") as meminfo:
        fields = dict(line.split(":", 1) for line in meminfo)
    available = int(fields["MemAvailable"].split()[0]) / 1024
    return min(available, MEMORY_LIMIT_GIB * 1024)


def fits(count: int, per_host_mib: float, running: int = 0, available: float | None = None) -> str:
    """'' when `count` hosts of `per_host_mib` fit beside the `running` ones, else why not."""
    available = available_mib() if available is None else available
    needed = max(0, count - running) * per_host_mib
    if needed <= available * MEMORY_HEADROOM:
        return ""
    return (f"skipped: {count} hosts need about {needed:.0f} MiB more ({per_host_mib:.0f} MiB each, "
            f"measured), {available:.0f} MiB available (capped at {MEMORY_LIMIT_GIB} GiB)")


def image_bytes(state: dict, host: dict) -> int:
    """`docker image inspect` size of the Ray image (pulled from the lab registry) on `host`."""
    command = f"sudo docker image inspect -f '{{{{.Size}}}}' {state['ray_image']}"
    code, out = labctl.run_on(state, host, command)
    if code != 0:
        raise RuntimeError(f"docker image inspect on {host['name']}: {out[-500:]}")
    return int(out.strip())


def restarted(state: dict, before: dict) -> int:
    after = {h["name"]: labctl.started_at(state, h) for h in state["hosts"]}
    return sum(1 for name in before for c in before[name] if after[name].get(c) != before[name][c])


def kill_worker_command(container: str = "seedcore-ray-worker") -> str:
    """The worker's container killed and kept down (its restart policy off first)."""
    return (f"sudo docker update --restart=no {container} >/dev/null && "
            f"sudo docker kill {container} >/dev/null")


def requests_per_second(ip: str, duration: float = 10.0, workers: int = 8) -> float:
    deadline = time.monotonic() + duration

    def loop(_):
        session = requests.Session()
        done = 0
        while time.monotonic() < deadline:
            if session.get(f"http://{ip}:8000/health", timeout=10).status_code == 200:
                done += 1
        return done

    with ThreadPoolExecutor(workers) as pool:
        return sum(pool.map(loop, range(workers))) / duration


