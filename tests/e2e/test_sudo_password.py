"""Sudo that asks for a password, on a real host: one worker reached as a second SSH user
whose sudo asks for a password. Without the password the run is refused with one line
naming the host and the cause, before any change, with no prompt and no traceback; with
pyinfra's `_sudo_password` the host gets through."""

import secrets
import shlex

import pytest

from lab import control as labctl
from lab import hosts as lab_hosts

pytestmark = pytest.mark.e2e

USER = "seedcore-pw"


@pytest.fixture
def password_user(converged, lab_state, workers):
    """(host, password): a worker on which USER logs in with the lab's key and whose sudo asks."""
    host = workers[0]
    password = "pw-" + secrets.token_hex(8)
    setup = (
        f"useradd -m -s /bin/bash {USER} && echo {shlex.quote(f'{USER}:{password}')} | chpasswd && "
        f"install -d -m 700 -o {USER} -g {USER} /home/{USER}/.ssh && "
        f"install -m 600 -o {USER} -g {USER} /home/{lab_state['ssh_user']}/.ssh/authorized_keys "
        f"/home/{USER}/.ssh/authorized_keys && "
        f"echo '{USER} ALL=(ALL:ALL) ALL' > /etc/sudoers.d/{USER} && chmod 0440 /etc/sudoers.d/{USER}"
    )
    done = lab_hosts.exec(host["name"], setup)
    assert done.returncode == 0, done.stderr
    try:
        yield host, password
    finally:
        lab_hosts.exec(host["name"], f"rm -f /etc/sudoers.d/{USER}; userdel -r {USER} 2>/dev/null; true")


def _inventory(name: str, host: dict, extra: str = "") -> str:
    return labctl.write_inventory(name, f"""
        for _name, data in ray_head + ray_workers:
            if _name == {host['name']!r}:
                data["ssh_user"] = {USER!r}
                {extra}
        """)


def test_sudo_that_asks_for_a_password_is_named_before_any_change(password_user, lab_state):
    host, password = password_user
    before = {h["name"]: labctl.started_at(lab_state, h) for h in lab_state["hosts"]}

    run = labctl.pyinfra(_inventory("sudo_asks", host), "deploy/cluster.py", timeout=300)

    assert run.returncode != 0, run.output[-3000:]
    said = [line for line in run.output.splitlines() if "sudo asks" in line]
    assert len(said) == 1, run.output[-3000:]
    assert f"host {host['name']}: sudo asks {USER} for a password" in said[0], said[0]
    assert "nothing was changed on any host" in run.output
    assert "Starting operation" not in run.output
    # No prompt (pyinfra's, or sudo's own on the host) and no traceback.
    for text in ("Traceback", "sudo password:", "[sudo] password for"):
        assert text not in run.output, run.output[-3000:]
    assert password not in run.output
    assert {h["name"]: labctl.started_at(lab_state, h) for h in lab_state["hosts"]} == before


def test_sudo_with_its_password_given_gets_the_host_through(password_user):
    host, password = password_user
    inventory = _inventory("sudo_password_given", host, f"data['_sudo_password'] = {password!r}")

    dry = labctl.pyinfra("--dry", inventory, "deploy/cluster.py", timeout=300)

    assert dry.returncode == 0, dry.output[-3000:]
    assert "sudo asks" not in dry.output
    assert password not in dry.output
