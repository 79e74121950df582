"""The web door on the converged lab, seen from the outsider (a container on the lab
network in no inventory): the dashboard's door on the head and Prometheus' on the
monitoring host answer 401 without credentials and with a wrong password, 200 with
the right one, over TLS checked against the cluster's CA; the dashboard's and
Prometheus' own ports stay shut. A second run reloads nothing; a new password is
one reload away, and the old one is then refused."""

import os
import re
import time

import pytest

from lab import control as labctl
from lab import outsider as lab_outsider
from lab.config import REPO, WEB_PASSWORD_ENV
from lab.inventory import web_password
from seedcore.defaults import ALL_DEFAULTS

pytestmark = pytest.mark.e2e

S = dict(ALL_DEFAULTS)
# inventories/lab.py: the lab's CA beside its keys (group_data/lab.py's tls_dir).
CA = REPO / ".lab" / "tls" / "ca.crt"


def lab_password() -> str:
    """The password the lab's inventory gives the deploy (the shell's, else the lab's own)."""
    return os.environ.get(WEB_PASSWORD_ENV) or web_password()


@pytest.fixture(scope="module")
def outsider(converged, lab_state):
    return lab_outsider.ensure(lab_state)


def door_urls(head: dict, monitor: dict) -> dict[str, str]:
    return {"dashboard": f"https://{head['ip']}:{S['web_dashboard_port']}/api/version",
            "prometheus": f"https://{monitor['ip']}:{S['web_prometheus_port']}/-/ready"}


def knock(urls: dict[str, str], right: str, wrong: str, tcp: list | None = None) -> dict:
    ask = {"tcp": tcp or [], "doors": {"ca": CA.read_text(), "user": S["web_user"], "right": right,
                                       "wrong": wrong, "urls": list(urls.values())}}
    return lab_outsider.probe(ask)


def test_the_outsider_gets_in_only_through_the_doors_with_the_password(outsider, head, workers):
    monitor = workers[-1]  # inventories/lab.py: the last worker runs Prometheus
    urls = door_urls(head, monitor)
    started = time.monotonic()
    result = knock(urls, lab_password(), "not-the-password-at-all",
                   tcp=[[head["ip"], S["ray_dashboard_port"]], [monitor["ip"], S["monitoring_port"]],
                        [head["ip"], 80], [monitor["ip"], 80]])
    labctl.record_figure("web_door_outsider_probe_s", round(time.monotonic() - started, 1))
    for what, url in urls.items():
        assert result["doors"][url] == {"none": 401, "wrong": 401, "right": 200}, (what, result["doors"][url])
    # The services' own ports, and nginx's default site, stay shut to the outsider.
    assert all(how != "open" for how in result["tcp"].values()), result["tcp"]


def test_a_second_run_reloads_nothing_and_a_new_password_is_one_reload_away(outsider, head, workers):
    again = labctl.pyinfra("inventories/lab.py", "deploy/cluster.py")
    assert again.returncode == 0, again.output[-3000:]
    for step in ("Reload nginx", "Restart nginx", "Check nginx's config"):
        assert f"Open the web door | {step}" not in again.output, step
    assert re.search(r"dashboard door +ok ", again.output)
    assert re.search(r"prometheus door +ok ", again.output)

    urls = door_urls(head, workers[-1])
    old, new = lab_password(), "a new door password, rotated " + str(int(time.time()))
    rotated = labctl.pyinfra("inventories/lab.py", "deploy/cluster.py", env={WEB_PASSWORD_ENV: new})
    assert rotated.returncode == 0, rotated.output[-3000:]
    assert ("Open the web door | Reload nginx because its site, certificate or password changed"
            in rotated.output)
    assert "Restart nginx" not in rotated.output
    result = knock(urls, new, old)
    for url in urls.values():
        assert result["doors"][url] == {"none": 401, "wrong": 401, "right": 200}, result["doors"][url]
    # Back to the lab's own password, for the tests that follow.
    back = labctl.pyinfra("inventories/lab.py", "deploy/cluster.py", env={WEB_PASSWORD_ENV: old})
    assert back.returncode == 0, back.output[-3000:]
