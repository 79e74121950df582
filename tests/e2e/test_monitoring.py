"""Monitoring on the lab: the last worker is also the monitoring host
(inventories/lab.py). Prometheus scrapes every target, loads the rules and
serves the head's dashboard; a worker's Ray container stopped turns its target
down and its alert pending or firing within the rule's window, and a converge
brings it back to green without restarting Prometheus."""

import time

import pytest
import requests

from lab import control as labctl
from seedcore.prometheus import expected_targets

pytestmark = pytest.mark.e2e

# Scrape and evaluation every 15 s, the alert's `for: 30s`: pending within two
# rounds of each; the bound leaves room for a loaded machine.
ALERT_BOUND_S = 120


def _prometheus(lab_state) -> str:
    return f"http://{lab_state['hosts'][-1]['ip']}:9090"


def _targets(base: str) -> dict[str, str]:
    active = requests.get(f"{base}/api/v1/targets?state=active", timeout=10).json()["data"]["activeTargets"]
    return {target["scrapeUrl"]: target["health"] for target in active}


def _alerts(base: str, name: str) -> list[dict]:
    alerts = requests.get(f"{base}/api/v1/alerts", timeout=10).json()["data"]["alerts"]
    return [alert for alert in alerts if alert["labels"]["alertname"] == name]


def _wait(what: str, bound_s: float, probe):
    started = time.monotonic()
    while True:
        value = probe()
        if value:
            return round(time.monotonic() - started, 1)
        assert time.monotonic() - started < bound_s, f"{what}: not within {bound_s}s"
        time.sleep(3)


def _urls(lab_state) -> list[str]:
    head = lab_state["hosts"][0]
    urls = [f"http://{h['ip']}:8080/metrics" for h in lab_state["hosts"]]
    return urls + [f"http://{head['ip']}:44227/metrics", f"http://{head['ip']}:44217/metrics"]


def _prometheus_started(lab_state) -> str:
    code, out = labctl.run_on(lab_state, lab_state["hosts"][-1],
                              "systemctl show -p ExecMainStartTimestampMonotonic --value prometheus")
    assert code == 0, out
    return out.strip()


def test_every_target_is_up_and_the_rules_are_loaded(converged, lab_state):
    base = _prometheus(lab_state)
    assert _targets(base) == {url: "up" for url in _urls(lab_state)}
    groups = requests.get(f"{base}/api/v1/rules?type=alert", timeout=10).json()["data"]["groups"]
    assert [(g["name"], len(g["rules"])) for g in groups] == [("seedcore", 5)]
    # The head's dashboard was pointed at it (RAY_PROMETHEUS_HOST).
    head = lab_state["hosts"][0]
    health = requests.get(f"http://{head['ip']}:8265/api/prometheus_health", timeout=10).json()
    assert health["result"] is True, health
    # Ray's own Grafana dashboards were copied to the control machine.
    assert (labctl.REPO / "reports" / "grafana" / "default_grafana_dashboard.json").is_file()
    # Prometheus listens where monitoring_ says, from Debian's package.
    code, out = labctl.run_on(
        lab_state, lab_state["hosts"][-1],
        "dpkg-query -W -f '${Status}\\n' prometheus; sudo ss -Hltn 'sport = :9090' | wc -l")
    assert out.split() == ["install", "ok", "installed", "1"], out


def test_a_stopped_worker_turns_its_target_down_and_its_alert_on_then_green_after_converge(
        converged, lab_state):
    base = _prometheus(lab_state)
    worker = lab_state["hosts"][1]
    url = f"http://{worker['ip']}:8080/metrics"
    started_before = _prometheus_started(lab_state)
    code, out = labctl.run_on(lab_state, worker, "sudo docker stop seedcore-ray-worker")
    assert code == 0, out
    down_s = _wait("the worker's target down", ALERT_BOUND_S, lambda: _targets(base).get(url) == "down")
    alert_s = _wait("SeedcoreRayNodeDown pending or firing", ALERT_BOUND_S, lambda: [
        a for a in _alerts(base, "SeedcoreRayNodeDown")
        if a["labels"]["host"] == worker["name"] and a["state"] in ("pending", "firing")])
    labctl.record_figure("monitoring.target_down_s", down_s)
    labctl.record_figure("monitoring.node_down_alert_s", alert_s)

    run = labctl.pyinfra("inventories/lab.py", "deploy/cluster.py")
    assert run.returncode == 0, run.output[-3000:]
    _wait("every target up after the converge", ALERT_BOUND_S,
          lambda: _targets(base) == {u: "up" for u in _urls(lab_state)})
    _wait("SeedcoreRayNodeDown gone", ALERT_BOUND_S, lambda: not _alerts(base, "SeedcoreRayNodeDown"))
    # Nothing of Prometheus' own config changed: it was not restarted.
    assert _prometheus_started(lab_state) == started_before


def test_the_inventory_and_the_lab_agree_on_the_targets(converged, lab_state):
    from pyinfra.api import Inventory

    hosts = lab_state["hosts"]
    inventory = Inventory(
        ([(h["name"], {"ssh_hostname": h["ip"]}) for h in hosts], {"ray_image": "x/ray:2.20.0"}),
        ray_head=([hosts[0]["name"]], {}), ray_workers=([h["name"] for h in hosts[1:]], {}),
    )
    assert sorted(expected_targets(inventory)) == sorted(_urls(lab_state))
