"""The outsider: a container on the lab network, in no inventory, at a fixed
address, running the lab's Ray image (python, ray[client], requests) pulled
from the lab's registry. The firewall tests try every way into the cluster
from it. Labelled like every lab object, so `lab down` removes it."""

import json
import shlex
import subprocess
from pathlib import Path

from lab import docker, log
from lab.config import LABEL, NETWORK, OUTSIDER_NAME, ROLE_LABEL, outsider_ip
from lab.errors import LabError
from lab.registry import push_address
from seedcore.ports import node_ports

PULL_TIMEOUT = 600


def image_of(state: dict) -> str:
    """The hosts' Ray image, as the outer engine pulls it (the registry's loopback address)."""
    return state["ray_image"].replace(state["registry"]["address"], push_address(), 1)


def ensure(state: dict) -> str:
    """Start the outsider unless it is running; return its address."""
    current = docker.inspect("container", OUTSIDER_NAME)
    if current is not None:
        if docker.labels_of(current).get(LABEL) != "1":
            raise LabError(f"a container named {OUTSIDER_NAME} exists that the lab did not create")
        if current["State"]["Running"]:
            return outsider_ip()
        docker.run("container", "rm", "--force", OUTSIDER_NAME)
    image = image_of(state)
    log.step(f"starting the outsider {OUTSIDER_NAME} at {outsider_ip()} (in no inventory)")
    docker.run("pull", image, timeout=PULL_TIMEOUT)
    docker.run(
        "run", "--detach", "--name", OUTSIDER_NAME, "--hostname", OUTSIDER_NAME,
        *docker.label_args(), "--label", f"{ROLE_LABEL}=outsider",
        "--network", NETWORK, "--ip", outsider_ip(), "--entrypoint", "sleep", image, "infinity",
    )
    return outsider_ip()


def run(argv: list[str], timeout: float = 60, input: str | None = None) -> subprocess.CompletedProcess:
    """Run a command inside the outsider, `input` on its stdin (never raises on its exit status)."""
    return docker.exec_in(OUTSIDER_NAME, shlex.join(argv), input=input, timeout=timeout)


PROBE = Path(__file__).with_name("outsider_probe.py")
PROBE_TIMEOUT_S = 180


def probe(ask: dict) -> dict:
    """Run lab/outsider_probe.py inside the outsider with `ask`; its JSON answer."""
    done = run(["python", "-", json.dumps(ask)], timeout=PROBE_TIMEOUT_S, input=PROBE.read_text())
    if done.returncode != 0:
        raise LabError(f"the outsider's probe failed ({done.returncode}): {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def port_targets(ip: str, ports: list[tuple[str, int, int]]) -> list[list]:
    """Each managed port of a host (both ends of a range)."""
    return [[ip, port] for port in sorted({end for _, low, high in ports for end in (low, high)})]


def ways_in(state: dict, settings: dict, doors: dict | None = None) -> dict:
    """Every way into the lab's cluster the outsider tries: the Jobs API and a Ray
    Client session on the head, raw TCP to every managed port of the head and of
    the first worker, Ray Client's session servers, and Prometheus on the last
    worker (inventories/lab.py puts it there); with `doors` ({"ca": PEM, "user",
    "right", "wrong"}), the web doors of the dashboard and of Prometheus without a
    password, with a wrong one and with the right one. SSH of both is added as the control that
    must stay open (so refusals are the firewall's, not the network's)."""
    head = next(host for host in state["hosts"] if host["role"] == "head")
    workers = [host for host in state["hosts"] if host["role"] == "worker"]
    # node_ports("head") holds Ray Client's session servers (CLIENT_SESSION_PORTS) too.
    tcp = port_targets(head["ip"], node_ports("head", settings))
    if workers:
        tcp += port_targets(workers[0]["ip"], node_ports("worker", settings))
        tcp.append([workers[-1]["ip"], settings["monitoring_port"]])
    controls = [[head["ip"], 22], *([[workers[0]["ip"], 22]] if workers else [])]
    ask = {
        "tcp": [*tcp, *controls],
        "jobs": f"http://{head['ip']}:{settings['ray_dashboard_port']}",
        "client": f"ray://{head['ip']}:{settings['ray_client_server_port']}",
        "controls": [f"{ip}:{port}" for ip, port in controls],
    }
    if doors is not None:
        urls = [f"https://{head['ip']}:{settings['web_dashboard_port']}/api/version"]
        if workers:
            urls.append(f"https://{workers[-1]['ip']}:{settings['web_prometheus_port']}/-/ready")
        ask["doors"] = {**doors, "urls": urls}
    return ask


def reached(result: dict, controls: list[str]) -> list[str]:
    """The ways in that worked: open ports other than the controls, a Jobs API that
    answered, a Ray Client session that connected."""
    ways = [f"tcp {target}" for target, how in sorted(result["tcp"].items())
            if how == "open" and target not in controls]
    if result.get("jobs") and not result["jobs"].startswith("failed"):
        ways.append(f"jobs api ({result['jobs']})")
    if result.get("client") and not result["client"].startswith("failed"):
        ways.append(f"ray client ({result['client']})")
    for url, answers in sorted((result.get("doors") or {}).items()):
        ways += [f"door {url} with {said} password (answered {answers.get(how)})"
                 for how, said in (("none", "no"), ("wrong", "a wrong")) if answers.get(how) != 401]
    return ways


def doors_refused(result: dict) -> list[str]:
    """Doors that did not let the right password in: the probe proved nothing about them."""
    doors = sorted((result.get("doors") or {}).items())
    return [url for url, answers in doors if answers.get("right") != 200]


def closed_controls(result: dict, controls: list[str]) -> list[str]:
    """Controls that did not open: the probe proved nothing about the firewall."""
    return [target for target in controls if result["tcp"].get(target) != "open"]
