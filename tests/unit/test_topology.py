"""Roles, addresses and the per-host plan, from real pyinfra inventories."""

import socket

from pyinfra.api import Inventory

from seedcore import render
from seedcore.families.debian import official_package_list
from seedcore.plan import plan_for
from seedcore.tasks.lifecycle import compose_default
from seedcore.topology import node_address, node_for, role_of, settings_for
from tests.harness import FakeHost, make_settings

IMAGE = "registry.example.com/seedcore/ray:2.20.0"


def _inventory(head_data=None):
    return Inventory(
        ([("head-1", {"ssh_hostname": "10.0.0.10", **(head_data or {})}),
          ("worker-1", {"ssh_hostname": "10.0.0.11"}),
          ("worker-2", {"ssh_hostname": "10.0.0.12", "ray_num_cpus": 4})],
         {"ray_image": IMAGE}),
        ray_head=(["head-1"], {}),
        ray_workers=(["worker-1", "worker-2"], {}),
    )


def test_roles():
    assert role_of(FakeHost(groups=["ray_head", "gpu"])) == "head"
    assert role_of(FakeHost(groups=["ray_workers"])) == "worker"
    assert role_of(FakeHost(groups=["gpu"])) == "none"


def test_settings_take_host_data_over_defaults():
    settings = settings_for(FakeHost(data={"ray_gcs_port": 6380, "ssh_user": "x"}))
    assert settings["ray_gcs_port"] == 6380
    assert settings["ray_dashboard_port"] == 8265
    assert "ssh_user" not in settings


def test_node_address_prefers_ray_node_ip_then_ssh_hostname():
    assert node_address(FakeHost(name="h", data={"ray_node_ip": "192.168.1.5", "ssh_hostname": "10.0.0.1"})) \
        == "192.168.1.5"
    assert node_address(FakeHost(name="h", data={"ssh_hostname": "10.0.0.1"})) == "10.0.0.1"


def test_node_address_falls_back_to_the_name_when_it_does_not_resolve(monkeypatch):
    def fail(name):
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(socket, "gethostbyname", fail)
    assert node_address(FakeHost(name="ray-head.lab")) == "ray-head.lab"


def test_node_for_a_worker_points_at_the_head():
    inventory = _inventory()
    node = node_for(inventory.get_host("worker-2"), inventory)
    assert (node.name, node.role, node.address, node.head_address) == (
        "worker-2", "worker", "10.0.0.12", "10.0.0.10",
    )
    assert node.container == "seedcore-ray-worker"
    assert node.compose_file == "ray-workers.yml"
    assert node.gcs_address == "10.0.0.10:6379"
    assert node.settings["ray_num_cpus"] == 4


def test_plan_for_the_head():
    inventory = _inventory()
    head = inventory.get_host("head-1")
    plan = plan_for(head, inventory)
    assert plan.node.role == "head"
    assert plan.config_hash == render.config_hash(node_for(head, inventory))
    assert plan.head_name == "head-1"
    assert plan.expected_nodes == 3
    assert plan.all_hosts == ["head-1", "worker-1", "worker-2"]


def test_plan_for_a_worker_chains_the_head_hash():
    inventory = _inventory()
    head_hash = plan_for(inventory.get_host("head-1"), inventory).config_hash
    worker = inventory.get_host("worker-1")
    plan = plan_for(worker, inventory)
    assert plan.config_hash == render.config_hash(node_for(worker, inventory), head_hash)
    assert plan.config_hash != head_hash


def test_a_head_change_restarts_every_worker():
    before = _inventory()
    after = _inventory(head_data={"ray_object_store_memory_mb": 4096})
    for name in ("worker-1", "worker-2"):
        assert plan_for(before.get_host(name), before).config_hash != \
            plan_for(after.get_host(name), after).config_hash


def test_a_worker_change_leaves_the_head_alone():
    before = _inventory()
    after = Inventory(
        ([("head-1", {"ssh_hostname": "10.0.0.10"}),
          ("worker-1", {"ssh_hostname": "10.0.0.11", "ray_num_cpus": 2}),
          ("worker-2", {"ssh_hostname": "10.0.0.12", "ray_num_cpus": 4})],
         {"ray_image": IMAGE}),
        ray_head=(["head-1"], {}),
        ray_workers=(["worker-1", "worker-2"], {}),
    )
    assert plan_for(before.get_host("head-1"), before).config_hash == \
        plan_for(after.get_host("head-1"), after).config_hash
    assert plan_for(before.get_host("worker-2"), before).config_hash == \
        plan_for(after.get_host("worker-2"), after).config_hash
    assert plan_for(before.get_host("worker-1"), before).config_hash != \
        plan_for(after.get_host("worker-1"), after).config_hash


def test_compose_cli_expected_before_docker_is_installed():
    assert compose_default(make_settings({"docker_install_source": "docker"})) == "docker compose"
    assert compose_default(make_settings({"docker_install_source": "distro"})) == "docker-compose"


def test_official_packages_pin_only_engine_and_cli():
    assert official_package_list(make_settings()) == [
        "docker-ce", "docker-ce-cli", "containerd.io", "docker-compose-plugin",
    ]
    pinned = official_package_list(make_settings({"docker_version": "5:27.3.1-1~debian.12~bookworm"}))
    assert pinned == [
        "docker-ce=5:27.3.1-1~debian.12~bookworm",
        "docker-ce-cli=5:27.3.1-1~debian.12~bookworm",
        "containerd.io",
        "docker-compose-plugin",
    ]


def test_node_address_given_as_an_ip_is_not_looked_up(monkeypatch):
    def fail(name):
        raise AssertionError(f"looked up {name}")

    monkeypatch.setattr(socket, "gethostbyname", fail)
    assert node_address(FakeHost(name="h", data={"ssh_hostname": "172.29.81.11"})) == "172.29.81.11"
