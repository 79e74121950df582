"""The monitoring host's checks, from the control machine: Prometheus answers,
every expected target is up (/api/v1/targets) and the rule group is loaded
(/api/v1/rules). Each is polled like the node checks (deploy.checks.poll)."""

import time

import requests

from deploy import checks
from deploy.prometheus import RULE_GROUP

REQUEST_TIMEOUT_S = 5


def _json(url: str) -> dict:
    response = requests.get(url, timeout=REQUEST_TIMEOUT_S)
    response.raise_for_status()
    return response.json()


def probe_ready(base: str):
    def probe():
        response = requests.get(f"{base}/-/ready", timeout=REQUEST_TIMEOUT_S)
        return response.status_code == 200, f"GET {base}/-/ready: HTTP {response.status_code}"
    return probe


def targets_verdict(active: list[dict], expected: dict[str, str]) -> tuple[bool, str]:
    """`active`: /api/v1/targets' activeTargets; `expected`: scrape URL -> what it is."""
    health = {target["scrapeUrl"]: (target["health"], target.get("lastError", "")) for target in active}
    bad = []
    for url, what in expected.items():
        state, error = health.get(url, ("missing", ""))
        if state != "up":
            bad.append(f"{what} {url} is {state}" + (f" ({error})" if error else ""))
    if bad:
        return False, "; ".join(bad)
    return True, f"all {len(expected)} targets up"


def probe_targets(base: str, expected: dict[str, str]):
    def probe():
        active = _json(f"{base}/api/v1/targets?state=active")["data"]["activeTargets"]
        return targets_verdict(active, expected)
    return probe


def rules_verdict(groups: list[dict], names: list[str]) -> tuple[bool, str]:
    """`groups`: /api/v1/rules' groups; the rule group must hold every name."""
    group = next((g for g in groups if g["name"] == RULE_GROUP), None)
    if group is None:
        return False, f"rule group {RULE_GROUP} is not loaded (loaded: {[g['name'] for g in groups]})"
    loaded = {rule["name"] for rule in group["rules"]}
    missing = [name for name in names if name not in loaded]
    if missing:
        return False, f"rule group {RULE_GROUP} lacks {', '.join(missing)}"
    return True, f"rule group {RULE_GROUP}: {len(names)} alert rules loaded"


def probe_rules(base: str, names: list[str]):
    def probe():
        return rules_verdict(_json(f"{base}/api/v1/rules?type=alert")["data"]["groups"], names)
    return probe


def monitoring_checks(host_name: str, base: str, expected: dict[str, str], names: list[str],
                      timeout_s: int) -> list[checks.Result]:
    deadline = time.monotonic() + timeout_s
    probes = [
        ("prometheus ready", probe_ready(base)),
        ("prometheus targets up", probe_targets(base, expected)),
        ("prometheus rules loaded", probe_rules(base, names)),
    ]
    return [checks.poll(host_name, check, probe, deadline) for check, probe in probes]
