"""Lab addresses: how many hosts the lab's subnet holds."""

import ipaddress

import pytest

from lab import config


def test_max_hosts_is_what_the_subnet_allows_and_the_last_host_sits_below_broadcast():
    subnet = ipaddress.ip_network(config.SUBNET)
    assert config.MAX_HOSTS == subnet.num_addresses - 12
    assert ipaddress.ip_address(config.host_ip(config.MAX_HOSTS)) == subnet.broadcast_address - 1
    assert config.host_ip(1) == str(subnet.network_address + 11)


def test_a_24_holds_244_hosts():
    if config.SUBNET.prefixlen != 24:
        pytest.skip("SEEDCORE_LAB_SUBNET is not a /24")
    assert config.MAX_HOSTS == 244


@pytest.mark.parametrize("index", [0, config.MAX_HOSTS + 1])
def test_an_index_outside_the_subnet_is_refused(index):
    with pytest.raises(ValueError, match=f"lab host index {index} is outside 1..{config.MAX_HOSTS}"):
        config.host_ip(index)


def test_the_inotify_limit_is_raised_for_many_hosts_and_never_lowered(tmp_path):
    from lab.hosts import raise_inotify_limit

    limit = tmp_path / "max_user_instances"
    limit.write_text("128\n")
    assert raise_inotify_limit(100, limit) == (
        "raised fs.inotify.max_user_instances from 128 to 1600 (systemd in every lab host needs some)")
    assert limit.read_text() == "1600\n"
    assert raise_inotify_limit(3, limit) == ""
    assert limit.read_text() == "1600\n"


def test_the_outsider_sits_apart_from_the_registry_mirror_gateway_and_hosts():
    taken = {config.gateway_ip(), config.registry_ip(), config.mirror_ip(), config.host_ip(1)}
    assert config.outsider_ip() not in taken
    assert ipaddress.ip_address(config.outsider_ip()) in config.SUBNET
    assert config.OUTSIDER_NAME.startswith(config.LAB_NAME)


def test_the_outsider_pulls_the_hosts_ray_image_through_the_registry_loopback_address():
    from lab import outsider
    from lab.registry import push_address

    state = {"registry": {"address": "172.29.77.2:5000"},
             "ray_image": "172.29.77.2:5000/seedcore/ray:2.20.0-abc123"}
    assert outsider.image_of(state) == f"{push_address()}/seedcore/ray:2.20.0-abc123"


def test_lab_hosts_admit_the_gateway_through_the_firewall():
    from lab.inventory import host_entry

    state = {"ssh_user": "seedcore", "ssh_key": "k", "known_hosts": "h", "ray_image": "i:1",
             "registry": {"address": "r:5000"}}
    _, data = host_entry(state, {"name": "h-1", "ip": config.host_ip(1), "install_source": "distro"})
    assert data["firewall_allow_cidrs"] == [f"{config.gateway_ip()}/32"]
