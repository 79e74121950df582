"""The host firewall on the converged lab, seen from the outsider: a container
on the lab network that is in no inventory (`python -m lab up --outsider`).

Every way into the cluster fails from there (Jobs API, Ray Client, raw TCP to
every managed port) while SSH still answers, so the refusals are the
firewall's, not the network's; the cluster stays green. The table survives a
restart of Docker, of nftables.service (whose stock config flushes the whole
ruleset) and a reboot of a host. Every port a Ray process listens on is one
the firewall manages.
"""

import shlex
import time

import pytest
import requests

from lab import control as labctl
from lab import docker as labdocker
from lab import hosts as labhosts
from lab import outsider as lab_outsider
from seedcore.defaults import ALL_DEFAULTS
from seedcore.facts.host import ListeningPorts
from seedcore.ports import node_ports

pytestmark = pytest.mark.e2e

S = dict(ALL_DEFAULTS)
GREEN_BOUND_S = 240


@pytest.fixture(scope="module")
def outsider(converged, lab_state):
    return lab_outsider.ensure(lab_state)


def monitor_of(workers):
    return workers[-1]  # inventories/lab.py: the last worker runs Prometheus


def assert_shut_out(result: dict, controls: list[str]) -> None:
    assert lab_outsider.closed_controls(result, controls) == [], f"SSH did not answer: {result['tcp']}"
    assert lab_outsider.reached(result, controls) == [], "the outsider got in"


def alive_nodes(head: dict) -> dict[str, set[str]]:
    """node IP -> the IDs of its ALIVE Ray nodes, as the head's dashboard sees them."""
    url = (f"http://{head['ip']}:{S['ray_dashboard_port']}/api/v0/nodes"
           "?filter_keys=state&filter_predicates=%3D&filter_values=ALIVE")
    try:
        nodes = requests.get(url, timeout=10).json()["data"]["result"]["result"]
    except (requests.RequestException, ValueError, KeyError):
        return {}
    alive: dict[str, set[str]] = {}
    for node in nodes:
        alive.setdefault(node["node_ip"], set()).add(node["node_id"])
    return alive


def wait_green(lab_state: dict, head: dict, rejoined: tuple[str, set[str]] | None = None) -> float:
    """Seconds until every lab host is an ALIVE Ray node and Serve answers on the head;
    with `rejoined` (an IP, its node IDs before), until that host's Ray node came back
    as a new node (its raylet registered with the head's GCS through the firewall)."""
    started = time.monotonic()
    wanted = {h["ip"] for h in lab_state["hosts"]}
    while time.monotonic() - started < GREEN_BOUND_S:
        alive = alive_nodes(head)
        back = rejoined is None or bool(alive.get(rejoined[0], set()) - rejoined[1])
        if set(alive) == wanted and back:
            try:
                if requests.get(f"http://{head['ip']}:{S['serve_http_port']}/health", timeout=5).ok:
                    return round(time.monotonic() - started, 1)
            except requests.RequestException:
                pass
        time.sleep(2)
    pytest.fail(f"the cluster is not green {GREEN_BOUND_S}s on: alive {alive_nodes(head)}")


def reaches(lab_state: dict, source: dict, target_ip: str, port: int) -> bool:
    """Whether `source` opens a TCP connection to target_ip:port (bash's /dev/tcp, 3 s)."""
    code, _ = labctl.run_on(lab_state, source, f"timeout 3 bash -c '</dev/tcp/{target_ip}/{int(port)}'")
    return code == 0


def test_every_way_in_fails_from_the_outsider_and_the_cluster_stays_green(
        outsider, lab_state, head, workers):
    monitor = monitor_of(workers)
    ask = lab_outsider.ways_in(lab_state, S)
    started = time.monotonic()
    result = lab_outsider.probe(ask)
    labctl.record_figure("firewall_outsider_probe_s", round(time.monotonic() - started, 1))
    assert_shut_out(result, ask["controls"])
    # The cluster's own traffic passes: a worker reaches the head's GCS, the head the
    # monitoring host's Prometheus, and every node is alive and Serve answers.
    assert reaches(lab_state, workers[0], head["ip"], S["ray_gcs_port"])
    assert reaches(lab_state, head, monitor["ip"], S["monitoring_port"])
    wait_green(lab_state, head)


def _managed(role: str, port: int) -> bool:
    return any(low <= port <= high for _, low, high in node_ports(role, S))


def test_every_port_a_ray_process_listens_on_is_managed(converged, lab_state, head, workers):
    fact = ListeningPorts()
    for host, role in ((head, "head"), (workers[0], "worker")):
        code, out = labctl.run_on(lab_state, host, f"sudo sh -c {shlex.quote(fact.command())}")
        assert code == 0, out
        ports = fact.process(out.splitlines())
        # Ray runs in the node's container: each listener held by a containerised process is Ray's.
        ray_ports = {port for port, holders in ports.items() if any(h["container"] for h in holders)}
        assert ray_ports, f"no Ray listener found on {host['name']}"
        unmanaged = sorted(port for port in ray_ports if not _managed(role, port))
        assert unmanaged == [], f"{host['name']}: Ray listens on ports the firewall does not manage"
        code, rules = labctl.run_on(lab_state, host, "sudo nft list table inet seedcore")
        assert code == 0 and f"tcp dport {S['ray_gcs_port'] if role == 'head' else 8076}" in rules


def _table_loaded(lab_state, host) -> bool:
    code, out = labctl.run_on(lab_state, host, "sudo nft list tables")
    return code == 0 and "table inet seedcore" in out


def test_the_firewall_survives_docker_nftables_and_a_reboot(outsider, lab_state, head, workers):
    worker = workers[0]
    ask = {"tcp": [*lab_outsider.port_targets(worker["ip"], node_ports("worker", S)), [worker["ip"], 22]]}
    controls = [f"{worker['ip']}:22"]
    figures = {}
    events = (("docker_restart", "sudo systemctl restart docker", True),
              ("nftables_restart", "sudo systemctl restart nftables", False))
    for event, command, restarts_ray in events:
        before = (worker["ip"], alive_nodes(head).get(worker["ip"], set()))
        started = time.monotonic()
        code, out = labctl.run_on(lab_state, worker, command, timeout=180)
        assert code == 0, f"{command}: {out}"
        assert _table_loaded(lab_state, worker), f"table inet seedcore gone after {event}"
        assert_shut_out(lab_outsider.probe(ask), controls)
        # Green again: after a restart of Docker, the worker's Ray node is a new one
        # that joined the head through both hosts' firewalls.
        wait_green(lab_state, head, before if restarts_ray else None)
        figures[event] = round(time.monotonic() - started, 1)
        assert reaches(lab_state, worker, head["ip"], S["ray_gcs_port"])
    # A reboot: the lab host's container restarted, systemd boots it again.
    before = (worker["ip"], alive_nodes(head).get(worker["ip"], set()))
    started = time.monotonic()
    labdocker.run("restart", worker["name"], timeout=180)
    labhosts.wait_ready([worker])
    assert _table_loaded(lab_state, worker), "table inet seedcore gone after a reboot"
    assert_shut_out(lab_outsider.probe(ask), controls)
    wait_green(lab_state, head, before)
    figures["reboot"] = round(time.monotonic() - started, 1)
    assert reaches(lab_state, worker, head["ip"], S["ray_gcs_port"])
    for event, seconds in figures.items():
        # From the event to green again, the outsider's refusals checked on the way.
        labctl.record_figure(f"firewall_green_after_{event}_s", seconds)
