"""The operator's one line that opens the dashboard, Serve and Prometheus on
their own machine, through the SSH path the deploy uses."""

import shlex

from pyinfra.api import Inventory

from seedcore.view import tunnel_command, view_lines

IMAGE = "registry.example.com/seedcore/ray:2.20.0"


def _inventory(head_data=None, monitoring=True):
    hosts = [("head-1", {"ssh_hostname": "10.0.0.10", "ssh_user": "deploy", **(head_data or {})}),
             ("worker-1", {"ssh_hostname": "10.0.0.11"}), ("prom-1", {"ssh_hostname": "10.0.0.30"})]
    groups = {"ray_head": (["head-1"], {}), "ray_workers": (["worker-1"], {})}
    if monitoring:
        groups["monitoring"] = (["prom-1"], {})
    return Inventory((hosts, {"ray_image": IMAGE}), **groups)


def _forwards(argv):
    return [argv[i + 1] for i, arg in enumerate(argv) if arg == "-L"]


def test_the_line_forwards_each_endpoint_as_the_head_reaches_it():
    argv = tunnel_command(_inventory())
    assert argv[:2] == ["ssh", "-N"] and argv[-1] == "deploy@10.0.0.10"
    assert _forwards(argv) == ["127.0.0.1:8265:127.0.0.1:8265", "127.0.0.1:8000:127.0.0.1:8000",
                               "127.0.0.1:9090:10.0.0.30:9090"]


def test_the_line_goes_the_deploys_own_way_through_its_ssh_config():
    argv = tunnel_command(_inventory({"ssh_config_file": "/home/op/.ssh/seedcore config",
                                      "ssh_port": 2222}))
    assert argv[argv.index("-F") + 1] == "/home/op/.ssh/seedcore config"
    assert argv[argv.index("-p") + 1] == "2222"
    inventory = _inventory({"ssh_config_file": "/home/op/.ssh/seedcore config"})
    assert shlex.split(view_lines(inventory)[1]) == tunnel_command(inventory)


def test_without_monitoring_there_is_no_prometheus_forward():
    ports = [f.split(":")[1] for f in _forwards(tunnel_command(_inventory(monitoring=False)))]
    assert ports == ["8265", "8000"]
    assert not any("Prometheus" in line for line in view_lines(_inventory(monitoring=False)))


def test_the_door_urls_follow_the_ssh_line_where_the_doors_run():
    lines = view_lines(_inventory())
    assert lines[-2:] == ["  Ray dashboard: https://10.0.0.10:8443/", "  Prometheus: https://10.0.0.30:9443/"]
    assert "SEEDCORE_WEB_PASSWORD" in lines[-3] and "user seedcore" in lines[-3]
    assert not any("https://" in line for line in view_lines(_inventory(monitoring=False))[:-1])
    # Without the door (web_manage off), the ssh line is the way in.
    off = view_lines(_inventory({"web_manage": False}, monitoring=False))
    assert not any("https://" in line for line in off)
