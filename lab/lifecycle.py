"""`up`, `down` and `status`: the lab as a whole."""

import fcntl
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from lab import docker, hosts, images, log, network, registry, ssh, state
from lab.config import HOST_PREFIX, LOCK_FILE, MAX_HOSTS, host_ip
from lab.errors import LabError, LabNotUp


@contextmanager
def locked():
    """One `up`/`down`/recreate at a time per checkout."""
    LOCK_FILE.parent.mkdir(parents=True, exist_ok=True)
    with LOCK_FILE.open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.step("waiting for another lab command to finish")
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _prepare() -> dict[str, str]:
    """Engine, key pair, images, network, registry and the pushed Ray image."""
    docker.ping()
    ssh.ensure_keypair()
    tags = images.ensure()
    network.ensure()
    registry.ensure(tags["registry"])
    registry.wait_ready()
    tags["ray_reference"] = registry.publish_ray(tags["ray"])
    return tags


def _save(entries: list[dict], ray_reference: str) -> dict:
    current = state.build(entries, registry.address(), registry.push_address(), ray_reference)
    state.save(current)
    return current


def up(count: int, fresh: bool = False) -> dict:
    """Make the lab match: `count` hosts (first is the head), registry, state file."""
    if not 1 <= count <= MAX_HOSTS:
        raise LabError(f"--hosts must be between 1 and {MAX_HOSTS}")
    with locked():
        tags = _prepare()
        existing = {host["name"]: host for host in hosts.listed()}
        for name, host in existing.items():
            if host["index"] > count:
                log.step(f"removing {name} (beyond --hosts {count})")
                hosts.remove(name)
        entries = []
        for index in range(1, count + 1):
            name = f"{HOST_PREFIX}{index}"
            current = existing.get(name)
            reason = ""
            if fresh:
                reason = "--fresh"
            elif current is None:
                reason = "missing"
            elif not current["running"]:
                reason = "stopped"
            elif current["image"] != tags["host"]:
                reason = "host image changed"
            elif current["ip"] != host_ip(index):
                reason = "address changed"
            if reason:
                log.step(f"creating {name} bare ({reason})")
                entries.append(hosts.start(index, tags["host"]))
            else:
                hosts.authorize(name)
                entries.append({"name": name, "ip": current["ip"], "role": current["role"], "index": index})
        hosts.wait_ready(entries)
        return _save(entries, tags["ray_reference"])


def recreate_host(index: int) -> dict:
    """Destroy one host and bring it back bare at the same name and address."""
    with locked():
        current = state.require_up()
        name = f"{HOST_PREFIX}{index}"
        if name not in {host["name"] for host in current["hosts"]}:
            raise LabError(f"{name} is not part of the lab (hosts: {len(current['hosts'])})")
        tag = images.tags()["host"]
        if not images.exists(tag):
            raise LabError(f"image {tag} is missing: run `python -m lab up`")
        log.step(f"recreating {name} bare")
        entry = hosts.start(index, tag)
        hosts.wait_ready([entry])
        return {"name": entry["name"], "ip": entry["ip"], "role": entry["role"]}


def down() -> None:
    """Remove every lab container, volume and the network; images stay as a cache."""
    with locked():
        docker.ping()
        containers = docker.lab_objects("container")
        if containers:
            log.step(f"removing {', '.join(containers)}")
            docker.run("container", "rm", "--force", *containers, timeout=300)
        volumes = docker.lab_objects("volume")
        if volumes:
            docker.run("volume", "rm", *volumes, timeout=300)
        network.remove()
        state.clear()


def status() -> dict:
    """The lab as the engine sees it, each host checked over SSH."""
    docker.ping()
    ssh.require_tools()
    listed = hosts.listed()
    if not listed:
        raise LabNotUp("no lab hosts on the engine")
    try:
        recorded = state.load()
    except LabNotUp:
        recorded = {}

    def probe(host: dict) -> dict:
        reachable = host["running"] and bool(host["ip"]) and ssh.check(host["ip"], connect_timeout=3)
        return {
            "name": host["name"],
            "ip": host["ip"],
            "role": host["role"],
            "running": host["running"],
            "ssh": reachable,
        }

    with ThreadPoolExecutor(max_workers=len(listed)) as pool:
        rows = list(pool.map(probe, listed))
    return {
        "hosts": rows,
        "registry": recorded.get("registry"),
        "ray_image": recorded.get("ray_image"),
        "checked_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
