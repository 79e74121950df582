"""The deploy lock: its commands, who holds it, and the line a second run is refused with."""

import json
import subprocess

import pytest

from seedcore import lock

RECORD = {"token": "t0k3n", "user": "ops", "machine": "laptop-7", "pid": 4242,
          "since": 1_700_000_000, "command": "pyinfra inventories/prod.py deploy/cluster.py"}
NOW = RECORD["since"] + 120


def _sh(command: str) -> tuple[int, list[str]]:
    done = subprocess.run(["sh", "-c", command], capture_output=True, text=True)
    return done.returncode, done.stdout.splitlines()


def test_the_first_run_takes_the_lock_and_the_second_sees_the_owner(tmp_path):
    directory = str(tmp_path / "opt" / "seedcore" / "deploy.lock")
    code, first = _sh(lock.take_command(directory, RECORD))
    assert (code, first) == (0, ["taken"])
    other = dict(RECORD, token="other", pid=1)
    code, second = _sh(lock.take_command(directory, other))
    assert code == 0
    assert second[0] == "held"
    assert lock.parse_owner(second[1:]) == RECORD


def test_release_removes_only_the_own_lock(tmp_path):
    directory = str(tmp_path / "deploy.lock")
    _sh(lock.take_command(directory, RECORD))
    _sh(lock.release_command(directory, "someone-else"))
    assert (tmp_path / "deploy.lock" / "owner").exists()
    _sh(lock.release_command(directory, RECORD["token"]))
    assert not (tmp_path / "deploy.lock").exists()


def test_an_owner_with_quotes_survives_the_shell(tmp_path):
    directory = str(tmp_path / "deploy.lock")
    record = dict(RECORD, command="pyinfra 'inv it'; rm -rf / \"x\" $(id)")
    _sh(lock.take_command(directory, record))
    assert json.loads((tmp_path / "deploy.lock" / "owner").read_text()) == record


def test_a_running_holder_refuses_the_second_run_with_who_where_since():
    message = lock.held_message("head-1", "/opt/seedcore/deploy.lock", RECORD, NOW, "laptop-7",
                                pid_gone=lambda pid: False)
    assert message == (
        "host head-1: another deploy holds the lock /opt/seedcore/deploy.lock: "
        "ops@laptop-7 (pid 4242) since 2023-11-14T22:13:20Z, running "
        "`pyinfra inventories/prod.py deploy/cluster.py`; wait for it to finish; nothing was changed"
    )


def test_a_holder_whose_pid_is_gone_is_reported_with_how_to_clear_it():
    message = lock.held_message("head-1", "/opt/seedcore/deploy.lock", RECORD, NOW, "laptop-7",
                                pid_gone=lambda pid: pid == 4242)
    assert message == (
        "host head-1: the deploy lock /opt/seedcore/deploy.lock is held by ops@laptop-7 (pid 4242) "
        "since 2023-11-14T22:13:20Z, running `pyinfra inventories/prod.py deploy/cluster.py`, and "
        "that holder is gone (pid 4242 no longer runs on laptop-7): if no deploy is running, ssh to "
        "head-1 and run `sudo rm -rf /opt/seedcore/deploy.lock`, then run again; nothing was changed"
    )


@pytest.mark.parametrize(("machine", "age", "gone"), [
    ("laptop-7", 60, None),  # pid alive on this machine
    ("bastion", 60, None),  # another machine: its pid cannot be checked from here
    ("bastion", lock.STALE_AFTER_S + 3600, "it is 7h old (more than 6h)"),
])
def test_holder_gone(machine, age, gone):
    record = dict(RECORD, machine=machine)
    assert lock.holder_gone(record, RECORD["since"] + age, "laptop-7", pid_gone=lambda pid: False) == gone


def test_a_lock_without_owner_is_reported_with_how_to_clear_it():
    assert lock.held_message("head-1", "/opt/seedcore/deploy.lock", None, NOW, "laptop-7") == (
        "host head-1: the deploy lock /opt/seedcore/deploy.lock exists without a readable owner: "
        "if no deploy is running, ssh to head-1 and run `sudo rm -rf /opt/seedcore/deploy.lock`, "
        "then run again; nothing was changed"
    )


class _Output:
    def __init__(self, stderr: str = ""):
        self.stderr = stderr


class _Connector:
    def __init__(self):
        self.connects = 0

    def connect(self):
        self.connects += 1


class _Head:
    """A head whose first release attempts fail as `failures` says."""

    def __init__(self, failures: list):
        self.name = "head-1"
        self.data = {}
        self.connector = _Connector()
        self.failures = list(failures)
        self.commands = []

    def run_shell_command(self, command, **kwargs):
        self.commands.append(command)
        failure = self.failures.pop(0) if self.failures else None
        if isinstance(failure, Exception):
            raise failure
        return failure is None, _Output("" if failure is None else failure)


def test_a_release_cut_by_an_interrupt_is_made_again_over_a_fresh_connection():
    head = _Head([ConnectionResetError(104, "Connection reset by peer")])
    assert lock.release(head, "/opt/seedcore/deploy.lock", "t0k3n") is True
    assert head.connector.connects == 1
    assert len(head.commands) == 2 and head.commands[0] == head.commands[1]


def test_a_lock_that_cannot_be_released_is_named_with_how_to_clear_it(capsys):
    head = _Head([ConnectionResetError(104, "Connection reset by peer"), "permission denied"])
    assert lock.release(head, "/opt/seedcore/deploy.lock", "t0k3n") is False
    assert capsys.readouterr().err == (
        "--> host head-1: could not release the deploy lock /opt/seedcore/deploy.lock (permission denied); "
        "ssh to head-1 and run `sudo rm -rf /opt/seedcore/deploy.lock` once no deploy is running\n")
