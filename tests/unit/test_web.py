"""The web door: which hosts open one, nginx's site file read back as nginx reads
it, the password file, and what validation refuses before any host changes."""

import re

import pytest
from pyinfra.api import Inventory

from seedcore import validate, web
from seedcore.sha_crypt import verify
from seedcore.topology import settings_for
from tests.conftest import WEB_PASSWORD

IMAGE = "registry.example.com/seedcore/ray:2.20.0"


def _inventory(all_data=None, host_data=None, monitoring="prom-1"):
    host_data = host_data or {}
    hosts = {"head-1": "10.0.0.10", "worker-1": "10.0.0.11", "prom-1": "10.0.0.30"}

    def named(*names):
        return [(name, {"ssh_hostname": hosts[name], **host_data.get(name, {})}) for name in names]

    return Inventory((named(*hosts), {"ray_image": IMAGE, **(all_data or {})}),
                     ray_head=(named("head-1"), {}), ray_workers=(named("worker-1"), {}),
                     monitoring=(named(monitoring), {}))


def _doors(inventory, name):
    host = inventory.get_host(name)
    return web.doors(host, settings_for(host))


# -- a tiny reader of nginx's config syntax: directives, arguments, blocks ----------------

TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{};]|[^\s{};"]+')


def parse(text: str) -> list:
    """[(name, [args], children or None)], comment lines dropped."""
    tokens = TOKEN.findall("\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")))
    position = 0

    def block():
        nonlocal position
        items, words = [], []
        while position < len(tokens):
            token = tokens[position]
            position += 1
            if token == ";":
                items.append((words[0], words[1:], None))
                words = []
            elif token == "{":
                items.append((words[0], words[1:], block()))
                words = []
            elif token == "}":
                assert not words, f"unterminated directive {words}"
                return items
            else:
                words.append(token)
        assert not words, f"unterminated directive {words}"
        return items

    return block()


def directives(items, name):
    return [item for item in items if item[0] == name]


def test_doors_open_on_the_head_and_the_monitoring_host_only():
    inventory = _inventory()
    (dashboard,) = _doors(inventory, "head-1")
    (prometheus,) = _doors(inventory, "prom-1")
    assert (dashboard.port, dashboard.upstream, dashboard.check_path) == (
        8443, "127.0.0.1:8265", "/api/version")
    assert (prometheus.port, prometheus.upstream, prometheus.check_path) == (
        9443, "127.0.0.1:9090", "/-/ready")
    assert _doors(inventory, "worker-1") == []
    # The head also monitoring: both doors on it.
    assert [d.what for d in _doors(_inventory(monitoring="head-1"), "head-1")] == ["dashboard", "prometheus"]
    assert _doors(_inventory({"web_manage": False}), "head-1") == []


def test_a_service_bound_to_one_address_is_reached_there():
    inventory = _inventory(host_data={"head-1": {"ray_dashboard_host": "10.0.0.10"},
                                      "prom-1": {"monitoring_listen_host": "10.0.0.30"}})
    assert _doors(inventory, "head-1")[0].upstream == "10.0.0.10:8265"
    assert _doors(inventory, "prom-1")[0].upstream == "10.0.0.30:9090"


def test_the_site_asks_for_the_password_everywhere_and_opens_only_the_doors():
    inventory = _inventory(monitoring="head-1")
    config = parse(web.site_config(_doors(inventory, "head-1")))
    servers = directives(config, "server")
    assert len(servers) == 2
    listened = set()
    for _, _, body in servers:
        for _, args, _ in directives(body, "listen"):
            assert args[-1] == "ssl", args
            listened.add(int(args[0].rsplit(":", 1)[-1]))
        assert directives(body, "ssl_protocols") == [("ssl_protocols", ["TLSv1.2", "TLSv1.3"], None)]
        assert directives(body, "auth_basic_user_file")[0][1] == [web.PASSWORD_FILE]
        locations = directives(body, "location")
        assert locations
        for _, args, inner in locations:
            # Each location asks for the password (its own, or the server's it inherits).
            assert directives(inner, "auth_basic") or directives(body, "auth_basic"), args
            # The door's credentials are not passed on.
            assert ("proxy_set_header", ["Authorization", '""'], None) in inner
            assert not directives(inner, "auth_basic") or directives(inner, "auth_basic")[0][1] != ["off"]
        # A refused password goes to the location that makes it wait its turn.
        (_, error_page, _), = directives(body, "error_page")
        failed = next(inner for _, args, inner in locations if args == [error_page[-1]])
        assert directives(failed, "limit_req")[0][1][0] == "zone=seedcore_auth_failures"
    assert listened == {8443, 9443}
    zones = {args[1].split("=")[1].split(":")[0] for _, args, _ in directives(config, "limit_req_zone")}
    assert zones == {"seedcore_auth_failures"}


def test_the_password_file_holds_the_users_hash_the_same_each_run_and_another_per_host():
    line = web.password_file("seedcore", WEB_PASSWORD, "head-1")
    user, hashed = line.rstrip("\n").split(":", 1)
    assert user == "seedcore" and hashed.startswith("$6$") and line.count("\n") == 1
    assert verify(WEB_PASSWORD, hashed) and not verify(WEB_PASSWORD + "x", hashed)
    assert WEB_PASSWORD not in line
    assert web.password_file("seedcore", WEB_PASSWORD, "head-1") == line
    assert web.password_file("seedcore", WEB_PASSWORD, "prom-1") != line
    assert web.password_file("seedcore", WEB_PASSWORD + "!", "head-1") != line


@pytest.mark.parametrize(("value", "words"), [
    (None, "is not set"), ("", "is not set"), ("short pass", "shorter than 12"),
    ("a long password\nsecond line", "control character"), ("tab\tinside a long one", "control character"),
])
def test_an_unusable_password_is_refused_in_one_line_without_showing_it(monkeypatch, value, words):
    if value is None:
        monkeypatch.delenv("SEEDCORE_WEB_PASSWORD")
    else:
        monkeypatch.setenv("SEEDCORE_WEB_PASSWORD", value)
    problems = validate.check_inventory(_inventory())
    # The head's door and Prometheus' door, one line naming both.
    (line,) = problems
    assert "hosts head-1, prom-1:" in line and "$SEEDCORE_WEB_PASSWORD (web_password_env)" in line
    assert words in line and "web_manage=False" in line
    if value:
        assert value not in line


def test_without_the_door_no_password_is_needed(monkeypatch):
    monkeypatch.delenv("SEEDCORE_WEB_PASSWORD")
    assert validate.check_inventory(_inventory({"web_manage": False})) == []


def test_door_ports_must_not_take_another_services_port():
    problems = validate.check_inventory(_inventory(host_data={
        "head-1": {"web_dashboard_port": 8265}, "prom-1": {"web_prometheus_port": 9090}}))
    assert any("host head-1: web_dashboard_port=8265 is also ray_dashboard_port (8265)" in line
               for line in problems), problems
    assert any("host prom-1: web_prometheus_port=9090 is also monitoring_port (9090)" in line
               for line in problems), problems
    both = validate.check_inventory(_inventory({"web_prometheus_port": 8443}, monitoring="head-1"))
    assert any("web_prometheus_port=8443 is also web_dashboard_port (8443)" in line for line in both), both


@pytest.mark.parametrize(("data", "words"), [
    ({"web_user": "ops:admin"}, "web_user 'ops:admin' is not a user name"),
    ({"web_dashboard_port": 0}, "web_dashboard_port=0 is out of range"),
    ({"web_cidrs": ["10.0.0.1/8"]}, "web_cidrs '10.0.0.1/8' is not an IP address or network"),
    ({"web_cert": "/nowhere/door.crt"}, "web_cert and web_key go together"),
    ({"web_password_env": "WEB PASSWORD"}, "web_password_env 'WEB PASSWORD' is not an environment variable"),
    ({"web_door": True}, "unknown key web_door"),
])
def test_bad_web_values_are_refused(data, words):
    problems = validate.check_inventory(_inventory(data))
    assert any(words in line for line in problems), problems


def test_the_operators_certificate_must_be_readable(tmp_path):
    cert = tmp_path / "door.crt"
    cert.write_text("x")
    key = tmp_path / "no.key"
    problems = validate.check_inventory(_inventory({"web_cert": str(cert), "web_key": str(key)}))
    assert any("web_key" in line and "cannot be read on this machine" in line for line in problems), problems
