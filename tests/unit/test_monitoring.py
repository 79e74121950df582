"""Monitoring: the scrape targets from the inventory, Prometheus' files, the head's
dashboard settings, the refusals of bad monitoring_ values and the checks' verdicts."""

import json
import os
import shutil
import subprocess
import sys

import pytest
import requests
import yaml
from pyinfra.api import Inventory

from seedcore import monitoring_checks as mchecks
from seedcore import prometheus, render, validate
from seedcore.monitoring_checks import rules_verdict, targets_verdict
from seedcore.tasks import monitoring as monitoring_task
from seedcore.tasks.monitoring import dashboards_command, parse_dashboards
from seedcore.topology import node_for, prometheus_url, role_of

IMAGE = "registry.example.com/seedcore/ray:2.20.0"
WHERE = "inventories/prod.py: "
RULE_NAMES = ["SeedcoreRayNodeDown", "SeedcoreRayAliveNodesBelowInventory", "SeedcoreServeHealthRouteFailing",
              "SeedcoreObjectStoreNearFull", "SeedcoreTargetDown"]


@pytest.fixture(autouse=True)
def argv(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["pyinfra", "inventories/prod.py", "deploy/cluster.py"])


def _inventory(monitoring="prom-1", workers=2, head_data=None, prom_data=None, extra_monitoring=()):
    hosts = [("head-1", {"ssh_hostname": "10.0.0.10", **(head_data or {})})]
    names = [f"worker-{i}" for i in range(1, workers + 1)]
    hosts += [(name, {"ssh_hostname": f"10.0.0.{10 + i}"}) for i, name in enumerate(names, 1)]
    groups = {"ray_head": (["head-1"], {}), "ray_workers": (names, {})}
    if monitoring == "prom-1":
        hosts.append(("prom-1", {"ssh_hostname": "10.0.0.30", **(prom_data or {})}))
    if monitoring:
        groups["monitoring"] = ([monitoring, *extra_monitoring], {})
    for name in extra_monitoring:
        if name not in {h for h, _ in hosts}:
            hosts.append((name, {"ssh_hostname": "10.0.0.31"}))
    return Inventory((hosts, {"ray_image": IMAGE}), **groups)


# --------------------------------------------------------------------------- targets

def test_targets_are_every_node_export_port_and_the_head_dashboard_and_autoscaler_ports():
    groups = prometheus.scrape_targets(_inventory())
    assert [(g["targets"], g["labels"]) for g in groups] == [
        (["10.0.0.10:8080"], {"component": "node", "host": "head-1", "role": "head"}),
        (["10.0.0.11:8080"], {"component": "node", "host": "worker-1", "role": "worker"}),
        (["10.0.0.12:8080"], {"component": "node", "host": "worker-2", "role": "worker"}),
        (["10.0.0.10:44227"], {"component": "dashboard", "host": "head-1", "role": "head"}),
        (["10.0.0.10:44217"], {"component": "autoscaler", "host": "head-1", "role": "head"}),
    ]


def test_targets_follow_each_hosts_own_ports_and_bracket_ipv6():
    inventory = _inventory(head_data={"ray_metrics_export_port": 9100, "ray_dashboard_metrics_port": 9200,
                                      "ray_node_ip": "fd00::10"})
    targets = [g["targets"][0] for g in prometheus.scrape_targets(inventory)]
    assert targets == ["[fd00::10]:9100", "10.0.0.11:8080", "10.0.0.12:8080", "[fd00::10]:9200",
                       "[fd00::10]:44217"]


def test_a_worker_added_changes_the_targets_file_only():
    small, large = _inventory(workers=2), _inventory(workers=3)
    settings = {**dict(validate.ALL_DEFAULTS), "ray_image": IMAGE}
    assert prometheus.targets_file(small) != prometheus.targets_file(large)
    assert json.loads(prometheus.targets_file(large))[3]["targets"] == ["10.0.0.13:8080"]
    # Config, command line and rules do not depend on the inventory's hosts: no restart, no reload.
    assert prometheus.prometheus_config(settings) == prometheus.prometheus_config(settings)
    assert "worker" not in prometheus.prometheus_config(settings) + prometheus.alert_rules(settings)


def test_expected_targets_are_the_scrape_urls_prometheus_reports():
    assert prometheus.expected_targets(_inventory(workers=1)) == {
        "http://10.0.0.10:8080/metrics": "head-1 node",
        "http://10.0.0.11:8080/metrics": "worker-1 node",
        "http://10.0.0.10:44227/metrics": "head-1 dashboard",
        "http://10.0.0.10:44217/metrics": "head-1 autoscaler",
    }


def test_each_target_is_known_by_the_host_it_is_on():
    assert prometheus.target_hosts(_inventory(workers=1)) == {
        "http://10.0.0.10:8080/metrics": "head-1",
        "http://10.0.0.11:8080/metrics": "worker-1",
        "http://10.0.0.10:44227/metrics": "head-1",
        "http://10.0.0.10:44217/metrics": "head-1",
    }


# --------------------------------------------------------------------------- Prometheus' files

def test_prometheus_yml_reads_the_targets_file_and_the_rules():
    settings = {"monitoring_scrape_interval": "10s"}
    document = yaml.safe_load(prometheus.prometheus_config(settings))
    assert document == {
        "global": {"scrape_interval": "10s", "evaluation_interval": "10s"},
        "rule_files": ["/etc/prometheus/seedcore/alerts.yml"],
        "scrape_configs": [{
            "job_name": "ray",
            "file_sd_configs": [{"files": ["/etc/prometheus/seedcore/ray-targets.json"],
                                 "refresh_interval": "30s"}],
        }],
    }


def test_command_line_has_listen_address_and_retention():
    text = prometheus.prometheus_args({"monitoring_listen_host": "10.0.0.30", "monitoring_port": 9091,
                                       "monitoring_retention": "30d"})
    assert text.splitlines()[1] == (
        'ARGS="--config.file=/etc/prometheus/prometheus.yml --web.listen-address=10.0.0.30:9091 '
        '--storage.tsdb.retention.time=30d"')
    assert prometheus.listen_address({"monitoring_listen_host": "::", "monitoring_port": 9090}) == "[::]:9090"


def test_rules_name_the_health_application_and_route():
    text = prometheus.alert_rules({"serve_health_route": "/healthz"})
    document = yaml.safe_load(text)
    assert [group["name"] for group in document["groups"]] == ["seedcore"]
    rules = {rule["alert"]: rule for rule in document["groups"][0]["rules"]}
    assert list(rules) == RULE_NAMES
    assert prometheus.rule_names() == RULE_NAMES
    serve = rules["SeedcoreServeHealthRouteFailing"]["expr"]
    assert 'application="seedcore-health"' in serve and 'route="/healthz"' in serve
    assert "@" not in text


PROMTOOL = shutil.which("promtool")


def _promtool_or_skip():
    if PROMTOOL:
        return PROMTOOL
    if os.environ.get("LAB") == "0":
        pytest.skip("promtool is not installed (LAB=0): `make test` installs Debian's prometheus package")
    pytest.fail("promtool is missing: `make test` installs it (scripts/ensure-promtool.sh)")


def test_promtool_accepts_the_rules_and_the_config(tmp_path):
    promtool = _promtool_or_skip()
    rules = tmp_path / "alerts.yml"
    rules.write_text(prometheus.alert_rules({"serve_health_route": "/health"}))
    run = subprocess.run([promtool, "check", "rules", str(rules)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"SUCCESS: {len(RULE_NAMES)} rules found" in run.stdout


def test_promtool_sees_each_alert_fire(tmp_path):
    """promtool's rule unit tests: series in, the alerts expected out."""
    promtool = _promtool_or_skip()
    (tmp_path / "alerts.yml").write_text(prometheus.alert_rules({"serve_health_route": "/health"}))
    shutil.copy(os.path.join(os.path.dirname(__file__), "monitoring_alerts_test.yml"), tmp_path)
    run = subprocess.run([promtool, "test", "rules", "monitoring_alerts_test.yml"], cwd=tmp_path,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "SUCCESS" in run.stdout


# --------------------------------------------------------------------------- the head's dashboard

def test_head_env_points_the_dashboard_at_prometheus_and_grafana():
    inventory = _inventory(head_data={"monitoring_grafana_url": "http://grafana.internal:3000"})
    head = node_for(inventory.get_host("head-1"), inventory)
    lines = render.env_file(head).splitlines()
    assert "RAY_PROMETHEUS_HOST=http://10.0.0.30:9090" in lines
    assert "RAY_GRAFANA_HOST=http://grafana.internal:3000" in lines
    worker = node_for(inventory.get_host("worker-1"), inventory)
    assert "RAY_PROMETHEUS_HOST" not in render.env_file(worker)


def test_without_monitoring_the_env_and_the_head_hash_are_unchanged():
    inventory = _inventory(monitoring="")
    head = node_for(inventory.get_host("head-1"), inventory)
    assert "RAY_PROMETHEUS_HOST" not in render.env_file(head)
    assert "RAY_GRAFANA_HOST" not in render.env_file(head)
    assert prometheus_url(inventory) == ""


def test_prometheus_url_uses_the_listen_host_when_it_is_one_address():
    inventory = _inventory(prom_data={"monitoring_listen_host": "192.168.5.5", "monitoring_port": 9999})
    assert prometheus_url(inventory) == "http://192.168.5.5:9999"


def test_a_monitoring_host_that_is_a_worker_stays_a_worker():
    inventory = _inventory(monitoring="worker-2")
    assert role_of(inventory.get_host("worker-2")) == "worker"
    assert prometheus_url(inventory) == "http://10.0.0.12:9090"
    assert role_of(_inventory().get_host("prom-1")) == "monitoring"


# --------------------------------------------------------------------------- refusals

@pytest.mark.parametrize("key,value,line", [
    ("monitoring_port", 0, "host prom-1: monitoring_port=0 is out of range: use 1-65535"),
    ("monitoring_retention", "15 days",
     "host prom-1: monitoring_retention '15 days' is not a Prometheus duration such as 15d, 12h or 4w: "
     "correct it"),
    ("monitoring_scrape_interval", "15d",
     "host prom-1: monitoring_scrape_interval '15d' is not a Prometheus duration such as 15s or 1m: "
     "correct it"),
    ("monitoring_listen_host", "0.0.0.0 --web.enable-admin-api",
     "host prom-1: monitoring_listen_host '0.0.0.0 --web.enable-admin-api' is not an IP address or host "
     "name: letters, digits and . : -: correct it"),
    ("monitoring_grafana_url", "grafana:3000",
     "host prom-1: monitoring_grafana_url 'grafana:3000' is not an http(s) URL of letters, digits and "
     ". _ ~ : / % + - [ ]: correct it"),
    ("monitoring_grafana_dashboards_dir", "dashboards",
     "host prom-1: monitoring_grafana_dashboards_dir 'dashboards' is not an absolute path of letters, "
     "digits and . _ - (no spaces, quotes or $): correct it"),
    ("monitoring_port", "9090", "host prom-1: monitoring_port must be an integer, got str '9090'"),
])
def test_bad_monitoring_values_are_refused(key, value, line):
    problems = validate.check_inventory(_inventory(prom_data={key: value}))
    assert problems == [WHERE + line]


def test_a_typo_in_a_monitoring_key_is_refused():
    problems = validate.check_inventory(_inventory(prom_data={"monitoring_retension": "1d"}))
    assert problems == [
        WHERE + "host prom-1: unknown key monitoring_retension: did you mean monitoring_retention?"]


def test_two_monitoring_hosts_are_refused():
    problems = validate.check_inventory(_inventory(extra_monitoring=("prom-2",)))
    assert problems == [WHERE + "2 hosts in group monitoring (prom-1, prom-2): one Prometheus scrapes the "
                        "cluster; keep one host there"]


def test_prometheus_on_the_head_cannot_take_a_ray_port():
    inventory = _inventory(monitoring="head-1", head_data={"monitoring_port": 44217})
    assert validate.check_inventory(inventory) == [
        WHERE + "host head-1: monitoring_port 44217 is also ray_autoscaler_metrics_port on this host: two "
        "services cannot share a port; give Prometheus another (e.g. 9090)"]
    inventory = _inventory(monitoring="worker-1", head_data={})
    inventory.get_host("worker-1").data.monitoring_port = 8080
    assert validate.check_inventory(inventory) == [
        WHERE + "host worker-1: monitoring_port 8080 is also ray_metrics_export_port on this host: two "
        "services cannot share a port; give Prometheus another (e.g. 9090)"]


def test_a_valid_monitoring_inventory_passes():
    assert validate.check_inventory(_inventory()) == []
    assert validate.check_inventory(_inventory(monitoring="head-1")) == []


# --------------------------------------------------------------------------- verdicts

def test_targets_verdict_names_each_down_or_missing_target():
    expected = {"http://10.0.0.10:8080/metrics": "head-1 node",
                "http://10.0.0.11:8080/metrics": "worker-1 node",
                "http://10.0.0.10:44217/metrics": "head-1 autoscaler"}
    active = [
        {"scrapeUrl": "http://10.0.0.10:8080/metrics", "health": "up", "lastError": ""},
        {"scrapeUrl": "http://10.0.0.11:8080/metrics", "health": "down",
         "lastError": "connect: connection refused"},
    ]
    assert targets_verdict(active, expected) == (False, (
        "worker-1 node http://10.0.0.11:8080/metrics is down (connect: connection refused); "
        "head-1 autoscaler http://10.0.0.10:44217/metrics is missing"))
    active[1]["health"] = "up"
    active.append({"scrapeUrl": "http://10.0.0.10:44217/metrics", "health": "up"})
    assert targets_verdict(active, expected) == (True, "all 3 targets up")


def test_rules_verdict_needs_the_group_with_every_rule():
    assert rules_verdict([], RULE_NAMES) == (False, "rule group seedcore is not loaded (loaded: [])")
    group = {"name": "seedcore", "rules": [{"name": name} for name in RULE_NAMES[:-1]]}
    assert rules_verdict([group], RULE_NAMES) == (False, "rule group seedcore lacks SeedcoreTargetDown")
    group["rules"].append({"name": "SeedcoreTargetDown"})
    assert rules_verdict([group], RULE_NAMES) == (True, "rule group seedcore: 5 alert rules loaded")


# --------------------------------------------------------------------------- Ray's Grafana dashboards

def test_dashboards_are_read_inside_the_head_container_under_a_bound(tmp_path, monkeypatch):
    from tests.shell import calls

    (call,) = calls([dashboards_command("seedcore-ray-head")])
    docker, verb, container, python, flag, script = call
    assert (docker, verb, container, python, flag) == ("docker", "exec", "seedcore-ray-head", "python", "-c")
    assert "/tmp/ray/session_latest/metrics/grafana/dashboards/*.json" in script
    # A head that never answers is given up at the bound, naming what was read.
    monkeypatch.setattr(monitoring_task, "DASHBOARDS_READ_TIMEOUT_S", 1)
    (tmp_path / "docker").write_text("#!/bin/sh\nsleep 30\n")
    (tmp_path / "docker").chmod(0o755)
    path = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"}
    result = subprocess.run(["bash", "-c", dashboards_command("seedcore-ray-head")], capture_output=True,
                            text=True, timeout=30, env=path)
    assert result.returncode == 124
    assert result.stderr == ("reading Ray's Grafana dashboards in seedcore-ray-head: "
                             "no answer within 1 s, stopped\n")


def test_only_plain_json_file_names_are_kept():
    output = json.dumps({"default_grafana_dashboard.json": "{}", "../evil.json": "x", ".hidden.json": "x",
                         "notes.txt": "x"})
    assert parse_dashboards(output) == {"default_grafana_dashboard.json": "{}"}


def test_dashboards_copied_from_the_same_head_container_are_kept(tmp_path):
    from seedcore.tasks.monitoring import DASHBOARDS_SOURCE, container_id_command, kept_dashboards

    assert container_id_command("seedcore-ray-head") == "docker inspect -f '{{.Id}}' seedcore-ray-head"
    (tmp_path / "default_grafana_dashboard.json").write_text("{}")
    assert kept_dashboards(str(tmp_path), "abc") == {}, "no record of where they came from"
    (tmp_path / DASHBOARDS_SOURCE).write_text("abc\n")
    assert kept_dashboards(str(tmp_path), "abc") == {"default_grafana_dashboard.json": "{}"}
    assert kept_dashboards(str(tmp_path), "def") == {}, "another head container: read again"
    assert kept_dashboards(str(tmp_path / "missing"), "abc") == {}


def _prometheus_answers(monkeypatch, worker_health: str):
    """A Prometheus that is ready, has the rules, and reports worker-1's target as `worker_health`."""
    inventory = _inventory(workers=2)
    targets = [{"scrapeUrl": url, "health": "up"} for url in prometheus.expected_targets(inventory)]
    targets[1]["health"] = worker_health  # worker-1 node
    answers = {
        "/api/v1/targets?state=active": {"data": {"activeTargets": targets}},
        "/api/v1/rules?type=alert": {"data": {"groups": [{
            "name": prometheus.RULE_GROUP, "rules": [{"name": name} for name in RULE_NAMES]}]}},
    }
    answers["/-/ready"] = "Prometheus Server is Ready."
    return inventory, PrometheusAnswers(answers)


class PrometheusAnswers:
    """A Reach whose GETs Prometheus answers from `answers` (path -> JSON or text)."""

    def __init__(self, answers: dict):
        self.answers = answers

    def get(self, url: str, **_):
        body = self.answers[url[len("http://prom:9090"):]]
        response = requests.models.Response()
        response.status_code = 200
        response._content = (body if isinstance(body, str) else json.dumps(body)).encode()
        return response


def _checks(answered, lost: dict, timeout_s: int):
    inventory, reach = answered
    return mchecks.monitoring_checks("prom-1", "http://prom:9090", prometheus.expected_targets(inventory),
                                     RULE_NAMES, timeout_s, target_hosts=prometheus.target_hosts(inventory),
                                     lost=lambda: lost, reach=reach)


def test_a_target_on_a_host_the_run_lost_is_red_at_once(monkeypatch):
    inventory = _prometheus_answers(monkeypatch, "down")
    lost = {"worker-1": "container seedcore-ray-worker is exited, not running"}
    ready, targets, rules = _checks(inventory, lost, timeout_s=300)
    assert (ready.ok, rules.ok) == (True, True)
    assert targets.ok is False and targets.seconds < 5
    assert targets.detail.startswith(
        "host worker-1: container seedcore-ray-worker is exited, not running (red at once"), targets.detail


def test_a_down_target_on_a_host_not_lost_is_waited_for(monkeypatch):
    inventory = _prometheus_answers(monkeypatch, "down")
    _, targets, _ = _checks(inventory, {"worker-2": "failed earlier in this run (a pull)"}, timeout_s=1)
    assert targets.ok is False
    assert "worker-1 node http://10.0.0.11:8080/metrics is down" in targets.detail
    assert "gave up after" in targets.detail


def test_targets_all_up_are_green_whatever_was_lost(monkeypatch):
    inventory = _prometheus_answers(monkeypatch, "up")
    _, targets, _ = _checks(inventory, {"worker-2": "gone"}, timeout_s=1)
    assert targets.ok is True
