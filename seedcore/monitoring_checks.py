"""The monitoring host's checks, through that host's SSH connection: Prometheus answers,
every expected target is up (/api/v1/targets) and the rule group is loaded
(/api/v1/rules). They are polled side by side, like the node checks (seedcore.checks.poll_all)."""

import time
from collections.abc import Callable

from seedcore import checks
from seedcore.prometheus import RULE_GROUP
from seedcore.reach import FROM_CONTROL, Reach


def _data(reach: Reach, url: str, key: str, *fields: str) -> list[dict]:
    """The `data.<key>` list of a Prometheus API answer, each item holding `fields`."""
    response = reach.get(url)
    response.raise_for_status()
    return checks.records(checks.dig(checks.json_object(response), "data", key), *fields)


def probe_ready(reach: Reach, base: str):
    def probe():
        response = reach.get(f"{base}/-/ready")
        return response.status_code == 200, f"GET {base}/-/ready: HTTP {response.status_code}"
    return probe


def _health(active: list[dict]) -> dict[str, tuple[str, str]]:
    return {target["scrapeUrl"]: (target["health"], target.get("lastError", "")) for target in active}


def _not_up(health: dict[str, tuple[str, str]], expected: dict[str, str]) -> list[str]:
    return [url for url in expected if health.get(url, ("missing", ""))[0] != "up"]


def not_up(active: list[dict], expected: dict[str, str]) -> list[str]:
    """The scrape URLs of `expected` that `active` (/api/v1/targets' activeTargets) does not report up."""
    return _not_up(_health(active), expected)


def targets_verdict(active: list[dict], expected: dict[str, str]) -> tuple[bool, str]:
    """`active`: /api/v1/targets' activeTargets; `expected`: scrape URL -> what it is."""
    health = _health(active)
    bad = []
    for url in _not_up(health, expected):
        state, error = health.get(url, ("missing", ""))
        bad.append(f"{expected[url]} {url} is {state}" + (f" ({error})" if error else ""))
    if bad:
        return False, "; ".join(bad)
    return True, f"all {len(expected)} targets up"


class TargetsProbe:
    """Polls /api/v1/targets for `expected` (scrape URL -> what it is); keeps
    its last answer (`active`)."""

    def __init__(self, reach: Reach, base: str, expected: dict[str, str]):
        self.reach, self.base, self.expected, self.active = reach, base, expected, []

    def __call__(self) -> tuple[bool, str]:
        self.active = _data(self.reach, f"{self.base}/api/v1/targets?state=active", "activeTargets",
                            "scrapeUrl", "health")
        return targets_verdict(self.active, self.expected)


def probe_targets(reach: Reach, base: str, expected: dict[str, str]) -> TargetsProbe:
    return TargetsProbe(reach, base, expected)


def lost_targets(not_up: list[str], target_hosts: dict[str, str], lost: dict[str, str]) -> str | None:
    """Why targets that are not up cannot come up in this run: the host each
    belongs to (`target_hosts`: scrape URL -> host name) was lost (`lost`:
    host name -> why), or None while any of them may still come up."""
    reasons = sorted({f"host {target_hosts[url]}: {lost[target_hosts[url]]}"
                      for url in not_up if target_hosts.get(url) in lost})
    return "; ".join(reasons) or None


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


def probe_rules(reach: Reach, base: str, names: list[str]):
    def probe():
        groups = _data(reach, f"{base}/api/v1/rules?type=alert", "groups", "name", "rules")
        for group in groups:
            checks.records(group["rules"], "name")
        return rules_verdict(groups, names)
    return probe


def monitoring_checks(host_name: str, base: str, expected: dict[str, str], names: list[str],
                      timeout_s: int, target_hosts: dict[str, str] | None = None,
                      lost: Callable[[], dict[str, str]] | None = None,
                      reach: Reach = FROM_CONTROL) -> list[checks.Result]:
    """Prometheus' three checks, polled side by side until green or `timeout_s`. The targets
    check is red at once when a target that is not up belongs to a host the run
    lost (`lost()`: host name -> why; `target_hosts`: scrape URL -> host name)."""
    deadline = time.monotonic() + timeout_s
    targets = probe_targets(reach, base, expected)

    def targets_doomed() -> str | None:
        if lost is None or not target_hosts:
            return None
        return lost_targets(not_up(targets.active, expected), target_hosts, lost())

    return checks.poll_all(host_name, [
        ("prometheus ready", probe_ready(reach, base), None),
        ("prometheus targets up", targets, targets_doomed),
        ("prometheus rules loaded", probe_rules(reach, base, names), None),
    ], deadline)
