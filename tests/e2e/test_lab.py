"""The lab's hosts behave like freshly provisioned servers."""

import paramiko
import pytest

from tests.e2e import labctl

pytestmark = pytest.mark.e2e


def test_every_host_answers_ssh_as_the_non_root_user_with_sudo(lab_state):
    assert len(lab_state["hosts"]) >= 2
    for host in lab_state["hosts"]:
        code, out = labctl.run_on(lab_state, host, "id -un; sudo -n id -u")
        assert code == 0, f"{host['name']}: {out}"
        assert out.split() == [lab_state["ssh_user"], "0"], host["name"]


def test_root_login_is_refused(lab_state):
    host = lab_state["hosts"][0]
    client = paramiko.SSHClient()
    client.load_host_keys(lab_state["known_hosts"])
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    with pytest.raises(paramiko.AuthenticationException):
        client.connect(host["ip"], username="root", key_filename=lab_state["ssh_key"],
                       look_for_keys=False, allow_agent=False, timeout=15)
    client.close()


def test_lab_status_lists_every_host_with_ssh_up(lab_state):
    result = labctl.lab("status", "--json")
    assert result.returncode == 0, result.stderr
    import json

    listed = json.loads(result.stdout)
    hosts = listed["hosts"] if isinstance(listed, dict) else listed
    assert {h["name"] for h in hosts} == {h["name"] for h in lab_state["hosts"]}
    assert all(h["ssh"] for h in hosts), hosts
