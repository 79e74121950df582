"""The host firewall: each managed port's allow-list, and the nftables file that says so."""

import ipaddress
import re

import pytest
from pyinfra.api import Inventory

from seedcore import firewall
from seedcore.ports import CLIENT_SESSION_PORTS
from seedcore.topology import settings_for

IMAGE = "registry.example.com/seedcore/ray:2.20.0"
HEAD, WORKER_1, WORKER_2, STORE, MONITOR = "10.0.0.10", "10.0.0.11", "10.0.0.12", "10.0.0.20", "10.0.0.30"
CLUSTER = {HEAD, WORKER_1, WORKER_2, STORE, MONITOR}


def _inventory(all_data=None, host_data=None):
    host_data = host_data or {}
    hosts = {"head-1": HEAD, "worker-1": WORKER_1, "worker-2": WORKER_2, "store-1": STORE, "prom-1": MONITOR}

    def named(*names):
        return [(name, {"ssh_hostname": hosts[name], **host_data.get(name, {})}) for name in names]

    return Inventory(
        (named(*hosts), {"ray_image": IMAGE, **(all_data or {})}),
        ray_head=(named("head-1"), {}),
        ray_workers=(named("worker-1", "worker-2"), {}),
        ray_gcs_store=(named("store-1"), {}),
        monitoring=(named("prom-1"), {}),
    )


def allowed(inventory, name) -> dict[str, set[str]]:
    host = inventory.get_host(name)
    return {a.name: {address for source in a.sources for address in _spelled(source)}
            for a in firewall.allow_lists(host, inventory, settings_for(host))}


def _spelled(source: str) -> list[str]:
    """A small network (neighbouring nodes merged) as its addresses; a larger one as itself."""
    net = ipaddress.ip_network(source)
    return [str(address) for address in net] if net.num_addresses <= 4 else [str(net)]


def test_ray_ports_admit_every_inventory_host_and_the_allowed_cidrs_only():
    inventory = _inventory({"firewall_allow_cidrs": ["192.0.2.0/24"],
                            "firewall_serve_cidrs": ["198.51.100.7"]})
    head = allowed(inventory, "head-1")
    for key in ("ray_gcs_port", "ray_dashboard_port", "ray_client_server_port", "ray_node_manager_port",
                "ray_min_worker_port-ray_max_worker_port", "ray_dashboard_agent_port"):
        assert head[key] == CLUSTER | {"192.0.2.0/24"}, key
    # Serve: also firewall_serve_cidrs; no other port gets them.
    assert head["serve_http_port"] == CLUSTER | {"192.0.2.0/24", "198.51.100.7"}
    assert all("198.51.100.7" not in sources for key, sources in head.items() if key != "serve_http_port")


def test_a_worker_manages_its_own_ports_and_no_head_port():
    worker = allowed(_inventory(), "worker-1")
    assert "ray_gcs_port" not in worker and "ray_client_server_port" not in worker
    assert {"ray_node_manager_port", "ray_object_manager_port", "ray_metrics_export_port",
            "serve_http_port", "ray_min_worker_port-ray_max_worker_port"} <= set(worker)


def test_metrics_ports_admit_the_monitoring_host_even_outside_the_cluster():
    inventory = _inventory(host_data={"prom-1": {"ray_node_ip": "10.9.9.9"}})
    head = allowed(inventory, "head-1")
    for key in ("ray_metrics_export_port", "ray_dashboard_metrics_port", "ray_autoscaler_metrics_port"):
        assert "10.9.9.9" in head[key]


def test_the_gcs_store_admits_only_the_head_and_itself():
    store = allowed(_inventory({"firewall_allow_cidrs": ["192.0.2.0/24"]}), "store-1")
    assert store == {"ray_gcs_store_port": {HEAD, STORE}}


def test_prometheus_admits_the_head_and_the_allowed_cidrs_not_the_workers():
    monitor = allowed(_inventory({"firewall_allow_cidrs": ["192.0.2.0/24"]}), "prom-1")
    assert monitor["monitoring_port"] == {HEAD, MONITOR, "192.0.2.0/24"}


def test_the_web_doors_admit_web_cidrs_and_only_where_they_run():
    inventory = _inventory({"firewall_allow_cidrs": ["192.0.2.0/24"], "web_cidrs": ["203.0.113.0/24"]})
    assert allowed(inventory, "head-1")["web_dashboard_port"] == CLUSTER | {"192.0.2.0/24", "203.0.113.0/24"}
    assert allowed(inventory, "prom-1")["web_prometheus_port"] == CLUSTER | {"192.0.2.0/24", "203.0.113.0/24"}
    assert all("203.0.113.0/24" not in sources for key, sources in allowed(inventory, "head-1").items()
               if key != "web_dashboard_port")
    for name in ("worker-1", "store-1"):
        assert not {"web_dashboard_port", "web_prometheus_port"} & set(allowed(inventory, name))
    # By default every address may knock: the door asks for the password.
    assert allowed(_inventory(), "head-1")["web_dashboard_port"] == {"0.0.0.0/0", "::/0"}
    # Without the door, no door port is managed (nor opened).
    off = _inventory({"web_manage": False})
    assert "web_dashboard_port" not in allowed(off, "head-1")
    assert set(allowed(off, "prom-1")) == {"monitoring_port"}


def test_a_monitoring_worker_gets_its_ray_ports_and_prometheus():
    inventory = Inventory(
        ([("head-1", {"ssh_hostname": HEAD}), ("worker-1", {"ssh_hostname": WORKER_1})],
         {"ray_image": IMAGE}),
        ray_head=(["head-1"], {}), ray_workers=(["worker-1"], {}), monitoring=(["worker-1"], {}),
    )
    worker = allowed(inventory, "worker-1")
    assert worker["monitoring_port"] == {HEAD, WORKER_1}
    assert worker["ray_node_manager_port"] == {HEAD, WORKER_1}


def test_overlapping_sources_are_merged_and_ipv6_kept_apart():
    assert firewall.sources(["10.0.0.5", "10.0.0.0/8", "2001:db8::/32", "10.1.0.0/16"]) == (
        "10.0.0.0/8", "2001:db8::/32")


def _rules(all_data=None, name="head-1"):
    inventory = _inventory(all_data)
    host = inventory.get_host(name)
    return firewall.rules_file(firewall.allow_lists(host, inventory, settings_for(host)))


def test_the_rules_file_replaces_only_its_own_table():
    text = _rules()
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert lines[:3] == ["table inet seedcore", "delete table inet seedcore", "table inet seedcore {"]
    assert "flush" not in text
    assert re.findall(r"^(?:delete )?table (\S+ \S+)", text, re.M) == ["inet seedcore"] * 3
    assert "type filter hook input priority 0; policy accept;" in text
    assert text.index('iif "lo" accept') < text.index("tcp dport")


def test_every_managed_port_is_accepted_from_its_sources_then_dropped():
    text = _rules({"firewall_allow_cidrs": ["2001:db8::/48"]})
    low, high = CLIENT_SESSION_PORTS
    for ports in ("6379", "8265", "10001", "10002-19999", f"{low}-{high}", "8000", "44217"):
        accept4 = text.index(f"tcp dport {ports} ip saddr {{")
        accept6 = text.index(f"tcp dport {ports} ip6 saddr {{ 2001:db8::/48 }} accept")
        drop = text.index(f"tcp dport {ports} drop")
        assert accept4 < drop and accept6 < drop, ports
    assert "tcp dport 22 " not in text


def test_the_unit_reloads_after_nftables_and_precedes_docker():
    unit = firewall.unit_file()
    for line in ("After=nftables.service", "PartOf=nftables.service", "Before=docker.service",
                 "Type=oneshot", "RemainAfterExit=yes", f"ExecStart=/usr/sbin/nft -f {firewall.RULES_FILE}",
                 "WantedBy=multi-user.target"):
        assert line in unit.splitlines(), line
    assert "delete table inet seedcore" in unit


@pytest.mark.parametrize("value", ["10.0.0.0/33", "10.0.0.1/8", "example.com", "0.0.0.0/0 ; flush", "", 7])
def test_a_cidr_that_is_not_one_is_refused_naming_host_and_key(value):
    inventory = _inventory({"firewall_serve_cidrs": [value]})
    host = inventory.get_host("worker-1")
    problems = firewall.firewall_problems(host, settings_for(host))
    assert len(problems) == 1 and problems[0].startswith("host worker-1: firewall_serve_cidrs ")
    assert "remove it" in problems[0]


def test_good_cidrs_and_addresses_pass():
    inventory = _inventory({"firewall_allow_cidrs": ["192.0.2.10", "10.0.0.0/8", "2001:db8::/32"]})
    host = inventory.get_host("head-1")
    assert firewall.firewall_problems(host, settings_for(host)) == []


def test_a_managed_port_on_the_ssh_port_is_refused():
    inventory = _inventory(host_data={"worker-1": {"ssh_port": 8076}, "store-1": {"ssh_port": 6379}})
    worker, store = inventory.get_host("worker-1"), inventory.get_host("store-1")
    assert firewall.firewall_problems(worker, settings_for(worker)) == [
        "host worker-1: ray_object_manager_port (8076) covers this host's SSH port (ssh_port=8076): "
        "the firewall never manages SSH; move ray_object_manager_port off port 8076"]
    assert "ray_gcs_store_port (6379)" in firewall.firewall_problems(store, settings_for(store))[0]


def test_ssh_inside_the_worker_range_is_refused():
    inventory = _inventory(host_data={"worker-1": {"ssh_port": 10022}})
    worker = inventory.get_host("worker-1")
    assert "ray_min_worker_port-ray_max_worker_port (10002-19999)" in \
        firewall.firewall_problems(worker, settings_for(worker))[0]


def test_a_node_address_that_is_not_an_ip_is_refused(monkeypatch):
    inventory = _inventory(host_data={"worker-2": {"ray_node_ip": "worker-2.internal"}})
    host = inventory.get_host("worker-2")
    assert "set ray_node_ip to its IP" in firewall.firewall_problems(host, settings_for(host))[0]


def test_nothing_is_checked_when_the_firewall_is_not_managed():
    inventory = _inventory({"firewall_manage": False, "firewall_allow_cidrs": ["nonsense"]},
                           host_data={"worker-1": {"ssh_port": 8076}})
    host = inventory.get_host("worker-1")
    assert firewall.firewall_problems(host, settings_for(host)) == []
