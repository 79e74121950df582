"""The production example is the recommended setup, and it passes validation as shipped:
head fault tolerance (a GCS store host), monitoring, mutual TLS, the host firewall and
the web door on."""

import runpy
import sys
from pathlib import Path

import pytest
from pyinfra.api import Inventory

from seedcore import validate
from seedcore.topology import GCS_STORE_GROUP, HEAD_GROUP, MONITORING_GROUP, WORKER_GROUP, settings_for

ROOT = Path(__file__).resolve().parents[2]
GROUPS = ("ray_head", "ray_workers", "gpu", "ray_gcs_store", "monitoring")


def _public(path: Path) -> dict:
    return {k: v for k, v in runpy.run_path(str(path)).items() if not k.startswith("__")}


def load(name: str) -> Inventory:
    """inventories/NAME.py with group_data/NAME.py, as pyinfra loads them (group_data/all.py's
    own values; its refusal hook needs a live pyinfra inventory and is left out)."""
    groups = _public(ROOT / "inventories" / f"{name}.py")
    data = {k: v for k, v in _public(ROOT / "group_data" / f"{name}.py").items() if not k.startswith("_")}
    hosts = {host_name: host_data for group in GROUPS for host_name, host_data in groups.get(group, [])}
    return Inventory(
        (list(hosts.items()), {"_sudo": True}),
        **{group: ([host_name for host_name, _ in groups.get(group, [])], {}) for group in GROUPS},
        **{name: (list(hosts), data)},
    )


@pytest.fixture
def prod(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["pyinfra", "inventories/prod.py", "deploy/cluster.py"])
    monkeypatch.setenv("SEEDCORE_GCS_STORE_PASSWORD", "a store password of some length")
    monkeypatch.setenv("SEEDCORE_WEB_PASSWORD", "a door password of some length")
    return load("prod")


def test_the_prod_example_passes_validation(prod):
    assert validate.check_inventory(prod) == []


def test_the_prod_example_has_head_fault_tolerance_and_monitoring(prod):
    (store,) = prod.get_group(GCS_STORE_GROUP)
    (monitor,) = prod.get_group(MONITORING_GROUP)
    ray_nodes = {h.name for group in (HEAD_GROUP, WORKER_GROUP) for h in prod.get_group(group)}
    assert store.name not in ray_nodes
    assert monitor.name in ray_nodes


def test_the_prod_example_has_tls_the_firewall_and_the_door_on(prod):
    for host in prod:
        settings = settings_for(host)
        assert settings["tls_enabled"] and settings["firewall_manage"] and settings["web_manage"], host.name
        assert settings["rollout_stage"] == "prod"
