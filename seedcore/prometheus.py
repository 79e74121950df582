"""Prometheus for the cluster, as files: the scrape targets from the inventory
(file-based service discovery: a new worker is one more entry, read without a
restart), prometheus.yml, the command line in /etc/default/prometheus and the
alert rules shipped in seedcore/monitoring/. Pure functions; seedcore/tasks/
monitoring.py writes them on the host in group `monitoring`."""

import json
from importlib import resources

import yaml

from seedcore.render import HEALTH_APP_NAME
from seedcore.topology import head_host, node_address, settings_for, worker_hosts

CONFIG_FILE = "/etc/prometheus/prometheus.yml"
SEEDCORE_DIR = "/etc/prometheus/seedcore"
TARGETS_FILE = f"{SEEDCORE_DIR}/ray-targets.json"
RULES_FILE = f"{SEEDCORE_DIR}/alerts.yml"
RULES_TEMPLATE = "alerts.yml"
SCRAPE_JOB = "ray"
RULE_GROUP = "seedcore"
HEADER = "# Managed by the seedcore deploy; edits here are overwritten.\n"


def host_port(address: str, port: int) -> str:
    """host:port, an IPv6 address in brackets."""
    if ":" in address and not address.startswith("["):
        address = f"[{address}]"
    return f"{address}:{port}"


def scrape_targets(inventory) -> list[dict]:
    """File-SD target groups: every Ray node's ray_metrics_export_port, then the
    head's dashboard metrics port (ray_dashboard_metrics_port) and its autoscaler's.
    Labels: component (node, dashboard, autoscaler), host (inventory name), role."""
    head = head_host(inventory)
    if head is None:
        return []
    groups = []
    for host, role in [(head, "head"), *[(worker, "worker") for worker in worker_hosts(inventory)]]:
        s, address = settings_for(host), node_address(host)
        groups.append(_group(host_port(address, s["ray_metrics_export_port"]), "node", host.name, role))
    s, address = settings_for(head), node_address(head)
    groups.append(_group(host_port(address, s["ray_dashboard_metrics_port"]), "dashboard", head.name, "head"))
    autoscaler = host_port(address, s["ray_autoscaler_metrics_port"])
    groups.append(_group(autoscaler, "autoscaler", head.name, "head"))
    return groups


def _group(target: str, component: str, host_name: str, role: str) -> dict:
    return {"targets": [target], "labels": {"component": component, "host": host_name, "role": role}}


def scrape_url(group: dict) -> str:
    """The URL Prometheus reports for a target group of `scrape_targets`."""
    return f"http://{group['targets'][0]}/metrics"


def expected_targets(inventory) -> dict[str, str]:
    """scrape URL -> "host component", every target verify expects up."""
    return {scrape_url(group): f"{group['labels']['host']} {group['labels']['component']}"
            for group in scrape_targets(inventory)}


def target_hosts(inventory) -> dict[str, str]:
    """scrape URL -> the name of the host it is on, for every expected target."""
    return {scrape_url(group): group["labels"]["host"] for group in scrape_targets(inventory)}


def targets_file(inventory) -> str:
    return json.dumps(scrape_targets(inventory), indent=2, sort_keys=True) + "\n"


def prometheus_config(settings: dict) -> str:
    """prometheus.yml: one scrape job reading TARGETS_FILE, the shipped rules."""
    interval = settings["monitoring_scrape_interval"]
    document = {
        "global": {"scrape_interval": interval, "evaluation_interval": interval},
        "rule_files": [RULES_FILE],
        "scrape_configs": [{
            "job_name": SCRAPE_JOB,
            "file_sd_configs": [{"files": [TARGETS_FILE], "refresh_interval": "30s"}],
        }],
    }
    return HEADER + yaml.safe_dump(document, sort_keys=False, default_flow_style=False)


def listen_address(settings: dict) -> str:
    return host_port(settings["monitoring_listen_host"], settings["monitoring_port"])


def prometheus_args(settings: dict) -> str:
    """Prometheus' command line as $ARGS (the file is the family's
    layout.prometheus_args_file; Debian's prometheus.service reads it).
    Every value was checked against its pattern (no quote, space or $)."""
    args = [
        f"--config.file={CONFIG_FILE}",
        f"--web.listen-address={listen_address(settings)}",
        f"--storage.tsdb.retention.time={settings['monitoring_retention']}",
    ]
    return HEADER + f'ARGS="{" ".join(args)}"\n'


def alert_rules(settings: dict) -> str:
    """The shipped rules with the head's values: the Serve health application and
    its route. The node count the inventory has is the count of node targets, so
    a worker added changes the targets file only."""
    template = resources.files("seedcore.monitoring").joinpath(RULES_TEMPLATE).read_text()
    values = {
        "@HEALTH_APP@": HEALTH_APP_NAME,
        "@HEALTH_ROUTE@": settings["serve_health_route"],
        "@SCRAPE_JOB@": SCRAPE_JOB,
        "@RULE_GROUP@": RULE_GROUP,
    }
    for placeholder, value in values.items():
        template = template.replace(placeholder, value)
    return template


def rule_names() -> list[str]:
    """The alert names the shipped rules define."""
    document = yaml.safe_load(alert_rules({"serve_health_route": "/health"}))
    return [rule["alert"] for group in document["groups"] for rule in group["rules"]]
