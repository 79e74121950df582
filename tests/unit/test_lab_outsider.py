"""What the outsider tries and how its answer is read (lab/outsider.py)."""

from lab import outsider
from seedcore.defaults import ALL_DEFAULTS
from seedcore.ports import node_ports

S = dict(ALL_DEFAULTS)
STATE = {"hosts": [{"name": "lab-1", "ip": "10.0.0.11", "role": "head"},
                   {"name": "lab-2", "ip": "10.0.0.12", "role": "worker"},
                   {"name": "lab-3", "ip": "10.0.0.13", "role": "worker"}]}


def test_every_managed_port_of_the_head_and_a_worker_is_tried_with_ssh_as_the_control():
    ask = outsider.ways_in(STATE, S)
    tried = {(ip, port) for ip, port in ask["tcp"]}
    for ip, role in (("10.0.0.11", "head"), ("10.0.0.12", "worker")):
        for _, low, high in node_ports(role, S):
            assert {(ip, low), (ip, high)} <= tried
    assert ("10.0.0.13", S["monitoring_port"]) in tried
    assert ask["controls"] == ["10.0.0.11:22", "10.0.0.12:22"]
    assert ask["jobs"] == f"http://10.0.0.11:{S['ray_dashboard_port']}"
    assert ask["client"] == f"ray://10.0.0.11:{S['ray_client_server_port']}"


def test_a_way_in_is_an_open_port_other_than_ssh_or_an_api_that_answered():
    controls = ["10.0.0.11:22"]
    shut = {"tcp": {"10.0.0.11:22": "open", "10.0.0.11:6379": "timeout"}, "jobs": "failed: ConnectTimeout",
            "client": "failed: timeout"}
    assert outsider.reached(shut, controls) == []
    assert outsider.closed_controls(shut, controls) == []
    opened = {"tcp": {"10.0.0.11:22": "open", "10.0.0.11:6379": "open"}, "jobs": "answered 200",
              "client": "connected"}
    assert outsider.reached(opened, controls) == ["tcp 10.0.0.11:6379", "jobs api (answered 200)",
                                                  "ray client (connected)"]


def test_ssh_that_did_not_answer_proves_nothing_and_is_named():
    result = {"tcp": {"10.0.0.11:22": "timeout"}, "jobs": "", "client": ""}
    assert outsider.closed_controls(result, ["10.0.0.11:22"]) == ["10.0.0.11:22"]


def test_the_doors_are_knocked_on_when_asked():
    doors = {"ca": "PEM", "user": "seedcore", "right": "pw", "wrong": "nope"}
    ask = outsider.ways_in(STATE, S, doors)
    assert ask["doors"]["urls"] == [f"https://10.0.0.11:{S['web_dashboard_port']}/api/version",
                                    f"https://10.0.0.13:{S['web_prometheus_port']}/-/ready"]
    assert "doors" not in outsider.ways_in(STATE, S)


def test_a_door_that_answers_without_the_password_is_a_way_in():
    url = "https://10.0.0.11:8443/api/version"
    shut = {"tcp": {}, "doors": {url: {"none": 401, "wrong": 401, "right": 200}}}
    assert outsider.reached(shut, []) == [] and outsider.doors_refused(shut) == []
    open_door = {"tcp": {}, "doors": {url: {"none": 200, "wrong": 401, "right": 200}}}
    assert outsider.reached(open_door, []) == [f"door {url} with no password (answered 200)"]
    locked = {"tcp": {}, "doors": {url: {"none": 401, "wrong": 401, "right": "ConnectTimeout"}}}
    assert outsider.doors_refused(locked) == [url]
