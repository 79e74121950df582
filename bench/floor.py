"""The floors: the deploy's unavoidable work done by hand on bare lab hosts.

The cluster floor: Docker installed on every host, the image pulled, the head
started, then the workers, the health app deployed, until /health answers and
every node is alive. The worker floor: one bare host, Docker, pull, the worker
started, until the head lists it alive. Commands come from bench/byhand.py.
"""

import time
from concurrent.futures import ThreadPoolExecutor

import requests

from bench import byhand
from bench.nodes import rendered
from lab import control as labctl

DEADLINE_S = 600


def run_ok(state: dict, host: dict, command: str, timeout: int = DEADLINE_S) -> str:
    code, out = labctl.run_on(state, host, command, timeout=timeout)
    if code != 0:
        raise RuntimeError(f"{host['name']}: `{command[:200]}` failed ({code}):\n{out[-2000:]}")
    return out


def on_all(state: dict, hosts: list[dict], command_for) -> None:
    with ThreadPoolExecutor(max(1, len(hosts))) as pool:
        list(pool.map(lambda host: run_ok(state, host, command_for(host)), hosts))


def wait_until(what: str, check, deadline_s: float = DEADLINE_S, every: float = 0.5) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except requests.RequestException:
            pass
        time.sleep(every)
    raise RuntimeError(f"gave up after {deadline_s:.0f} s waiting for {what}")


def alive(node) -> set[str]:
    url = (f"http://{node.address}:{node.settings['ray_dashboard_port']}/api/v0/nodes"
           "?filter_keys=state&filter_predicates=%3D&filter_values=ALIVE")
    return byhand.alive_ips(requests.get(url, timeout=5).json())


def health_ok(node) -> bool:
    s = node.settings
    url = f"http://{node.address}:{s['serve_http_port']}{s['serve_health_route']}"
    return requests.get(url, timeout=5).status_code == 200


def gcs_ok(node) -> bool:
    url = f"http://{node.address}:{node.settings['ray_dashboard_port']}/api/gcs_healthz"
    return requests.get(url, timeout=5).status_code == 200


def _install_and_pull(state: dict, pairs: list[tuple[dict, object]], figures: dict) -> None:
    """Docker, then the image, on every host at once (as pyinfra would run them)."""
    nodes = {host["name"]: node for host, node in pairs}
    hosts = [host for host, _ in pairs]

    def install(host: dict) -> str:
        codename = run_ok(state, host, ". /etc/os-release && echo $VERSION_CODENAME", timeout=30).strip()
        return byhand.docker_install(nodes[host["name"]].settings, "debian", codename)

    started = time.monotonic()
    on_all(state, hosts, install)
    figures["install_docker_s"] = time.monotonic() - started
    started = time.monotonic()
    on_all(state, hosts, lambda host: byhand.pull(nodes[host["name"]].image))
    figures["pull_image_s"] = time.monotonic() - started


def _paired(state: dict, inventory: str) -> list[tuple[dict, object, str]]:
    """(lab host, Node, config hash) for each node of the inventory, the head first."""
    by_name = {host["name"]: host for host in state["hosts"]}
    return [(by_name[node.name], node, digest) for node, digest in rendered(inventory)]


def cluster(state: dict, inventory: str = "inventories/lab.py") -> dict:
    """The floor for a fresh converge of every host of `state` (bare)."""
    nodes = _paired(state, inventory)
    figures: dict = {"hosts": len(nodes)}
    _install_and_pull(state, [(host, node) for host, node, _ in nodes], figures)
    (head_host, head, head_hash), workers = nodes[0], nodes[1:]
    started = time.monotonic()
    run_ok(state, head_host, byhand.start_node(head, head_hash))
    wait_until("the head's GCS", lambda: gcs_ok(head))
    figures["head_up_s"] = time.monotonic() - started
    by_name = {host["name"]: (node, digest) for host, node, digest in workers}
    on_all(state, [host for host, _, _ in workers], lambda host: byhand.start_node(*by_name[host["name"]]))
    wait_until("the head's dashboard to take serve deploy",
               lambda: labctl.run_on(state, head_host, byhand.serve_deploy(head))[0] == 0, every=1)
    expected = {node.address for _, node, _ in nodes}
    wait_until("/health and every node alive", lambda: health_ok(head) and alive(head) >= expected)
    figures["ray_to_health_s"] = time.monotonic() - started
    figures["total_s"] = figures["install_docker_s"] + figures["pull_image_s"] + figures["ray_to_health_s"]
    return figures


def worker(state: dict, name: str, inventory: str = "inventories/lab.py") -> dict:
    """The floor for rebuilding the worker on host `name` (bare), its head running."""
    nodes = _paired(state, inventory)
    (host, node, digest), = [item for item in nodes if item[0]["name"] == name]
    head = nodes[0][1]
    figures: dict = {}
    _install_and_pull(state, [(host, node)], figures)
    started = time.monotonic()
    run_ok(state, host, byhand.start_node(node, digest))
    wait_until(f"the head to list {node.address} alive", lambda: node.address in alive(head))
    figures["ray_to_alive_s"] = time.monotonic() - started
    figures["total_s"] = figures["install_docker_s"] + figures["pull_image_s"] + figures["ray_to_alive_s"]
    return figures
