"""`up`, `down` and `status`: the lab as a whole."""

import fcntl
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from lab import bastion, docker, hosts, images, log, mirror, network, plan, registry, ssh, state
from lab.config import (
    DEFAULT_DISTRO,
    DISTROS,
    HOST_CONCURRENCY,
    HOST_PREFIX,
    LOCK_FILE,
    MAX_HOSTS,
    SSH_CONFIG,
    host_ip,
    mirror_url,
)
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


def _prepare() -> tuple[dict[str, str], dict]:
    """Engine, key pair, images, network, registry, the pushed Ray image and the
    apt mirror; (image tags, what the mirror published: see mirror.ensure)."""
    docker.ping()
    ssh.ensure_keypair()
    tags = images.ensure()
    network.ensure()
    registry.ensure(tags["registry"])
    published = mirror.ensure(tags["apt-mirror"])
    registry.wait_ready()
    mirror.wait_ready()
    tags["ray_reference"] = registry.publish_ray(tags["ray"])
    return tags, published


def _save(entries: list[dict], tags: dict[str, str], published: dict, jump: dict | None = None) -> dict:
    current = state.build(
        entries,
        registry.address(),
        registry.push_address(),
        tags["ray_reference"],
        {"url": mirror_url(), **published},
        jump,
    )
    state.save(current)
    return current


def _recorded_sources() -> dict[int, tuple[str, str]]:
    """index -> (codename, install source) as the last `up` recorded them."""
    try:
        recorded = state.load()
    except LabNotUp:
        return {}
    return {
        hosts.index_of(host["name"]): (host.get("distro", ""), host.get("install_source", ""))
        for host in recorded.get("hosts", [])
        if host.get("name", "").startswith(HOST_PREFIX)
    }


def up(count: int, fresh: bool = False, distros: str | None = None, sources: str | None = None,
       with_bastion: bool = False) -> dict:
    """Make the lab match: `count` hosts (first is the head) of the releases
    `distros` lists, registry, apt mirror, state file; with `with_bastion`, a
    bastion and this machine's guard (see lab/bastion.py), else neither."""
    if not 1 <= count <= MAX_HOSTS:
        raise LabError(f"--hosts must be between 1 and {MAX_HOSTS}")
    with locked():
        # The hosts are brought up and checked directly; the guard comes back at the end.
        bastion.guard_off()
        SSH_CONFIG.unlink(missing_ok=True)
        raised = hosts.raise_inotify_limit(count)
        if raised:
            log.step(raised)
        existing = {host["name"]: host for host in hosts.listed()}
        kept = {
            host["index"]: host["distro"]
            for host in existing.values()
            if host["running"] and host["distro"] in DISTROS
        }
        wanted_distros = plan.distros_for(count, distros, kept)
        wanted_sources = plan.sources_for(wanted_distros, sources, _recorded_sources())
        tags, published = _prepare()
        beyond = [name for name, host in existing.items() if host["index"] > count]
        if beyond:
            log.step(f"removing {len(beyond)} hosts beyond --hosts {count}")
            _concurrently(hosts.remove, beyond)
        work = []
        for index, (distro, source) in enumerate(zip(wanted_distros, wanted_sources, strict=True), start=1):
            name = f"{HOST_PREFIX}{index}"
            current = existing.get(name)
            image = images.host_tag(tags, distro)
            reason = ""
            if fresh:
                reason = "--fresh"
            elif current is None:
                reason = "missing"
            elif not current["running"]:
                reason = "stopped"
            elif current["distro"] != distro:
                reason = f"{current['distro'] or 'unknown'} -> {distro}"
            elif current["image"] != image:
                reason = "host image changed"
            elif current["ip"] != host_ip(index):
                reason = "address changed"
            if reason:
                log.step(f"creating {name} bare, Debian {distro} ({reason})")
            work.append((index, name, image, distro, source, current, reason))

        def bring(item) -> dict:
            index, name, image, distro, source, current, reason = item
            if reason:
                entry = hosts.start(index, image, distro)
            else:
                hosts.authorize(name)
                entry = {"name": name, "ip": current["ip"], "role": current["role"], "index": index}
            return {**entry, "distro": distro, "install_source": source}

        entries = _concurrently(bring, work)
        hosts.wait_ready(entries)
        jump = None
        if with_bastion:
            jump = bastion.ensure(images.host_tag(tags, DEFAULT_DISTRO), DEFAULT_DISTRO)
            bastion.guard_on()
            log.step(f"bastion {jump['name']} at {jump['ip']} (user {jump['user']}): this machine reaches "
                     f"the hosts only by SSH through it ({jump['ssh_config']})")
        else:
            bastion.remove()
        return _save(entries, tags, published, jump)


def _concurrently(function, items: list) -> list:
    """function(item) for every item, HOST_CONCURRENCY at a time; results in order.
    The first failure is raised once every started call has finished."""
    with ThreadPoolExecutor(max_workers=max(1, min(len(items), HOST_CONCURRENCY))) as pool:
        return list(pool.map(function, items))


def recreate(name: str) -> dict:
    """Destroy host `name` (and its docker volume) and start it bare again.

    The host keeps its name, IP and role; its SSH host keys are new and replace
    the old ones in the lab's known_hosts. Returns the host's entry.
    """
    return recreate_host(hosts.index_of(name))


def recreate_host(index: int) -> dict:
    """Destroy one host and bring it back bare at the same name and address."""
    with locked():
        current = state.require_up()
        name = f"{HOST_PREFIX}{index}"
        recorded = {host["name"]: host for host in current["hosts"]}
        if name not in recorded:
            raise LabError(f"{name} is not part of the lab (hosts: {len(current['hosts'])})")
        distro = recorded[name].get("distro", DEFAULT_DISTRO)
        tag = images.host_tag(images.tags(), distro)
        if not images.exists(tag):
            raise LabError(f"image {tag} is missing: run `python -m lab up`")
        log.step(f"recreating {name} bare, Debian {distro}")
        entry = hosts.start(index, tag, distro)
        hosts.wait_ready([entry])
        return {key: entry.get(key, recorded[name].get(key, "")) for key in state.HOST_KEYS}


def down() -> None:
    """Remove every lab container, volume and the network; images stay as a cache."""
    with locked():
        docker.ping()
        bastion.guard_off()
        SSH_CONFIG.unlink(missing_ok=True)
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
    sources = {host["name"]: host.get("install_source", "") for host in recorded.get("hosts", [])}

    def probe(host: dict) -> dict:
        reachable = host["running"] and bool(host["ip"]) and ssh.check(host["ip"], connect_timeout=3)
        return {
            "name": host["name"],
            "ip": host["ip"],
            "role": host["role"],
            "distro": host["distro"],
            "install_source": sources.get(host["name"], ""),
            "running": host["running"],
            "ssh": reachable,
        }

    with ThreadPoolExecutor(max_workers=len(listed)) as pool:
        rows = list(pool.map(probe, listed))
    return {
        "hosts": rows,
        "registry": recorded.get("registry"),
        "ray_image": recorded.get("ray_image"),
        "apt_mirror": recorded.get("apt_mirror"),
        "checked_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
