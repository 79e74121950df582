"""deploy/verify.py as an operator (or cron, or CI) runs it: without `-y` and with
nothing on stdin. Red or green it prints its table and one summary line, asks
nothing, and lists its checks as no change; the exit code says red."""

import json
import time

import pytest

from seedcore import checks
from seedcore.tasks import verify
from tests.cli import responses
from tests.cli.cli import Deployment, head_and_two_workers

VERIFY = "deploy/verify.py"
NOISE = ("Traceback", "Unexpected error in Python callback", "No hosts remaining!", "Press enter",
         "EOFError", "One of more hosts failed")


def summaries(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("--> Verify: ")]


def assert_quiet(run) -> None:
    for noise in NOISE:
        assert noise not in run.output, f"{noise!r} printed:\n{run.describe()}"
    assert len(summaries(run.output)) == 1, run.describe()
    # The checks only read: pyinfra's table of changes lists none of them.
    assert run.has_change_table, run.describe()
    for row in run.rows_matching("Verify the cluster"):
        assert row.change == set() and row.conditional == set(), run.describe()


def test_a_red_verify_prints_its_table_and_one_line_and_exits_non_zero(tmp_path):
    # Bare hosts: no node runs anywhere, every check is red.
    deployment = head_and_two_workers(tmp_path)
    run = deployment.run(deploy=VERIFY)
    assert run.code == 1, run.describe()
    assert_quiet(run)
    assert "--> Verify report (" in run.output
    (line,) = summaries(run.output)
    assert line.startswith("--> Verify: red on 3 of 3 hosts: @fake/head-1 (dashboard version"), line
    assert "@fake/worker-2 (metrics, node alive" in line, line


@pytest.fixture
def green_checks(monkeypatch):
    """Every node's checks answer green (the checks themselves are tested in tests/unit)."""
    def check_host(state, host, node, expected_nodes, all_hosts):
        verify.results_of(state)[host.name] = [checks.Result(host.name, "node alive", True, "ALIVE")]
    monkeypatch.setattr(verify, "_check_host", check_host)


def test_a_green_verify_without_y_and_without_stdin_exits_0(tmp_path, green_checks):
    deployment = head_and_two_workers(tmp_path)
    run = deployment.run(deploy=VERIFY)
    assert run.code == 0, run.describe()
    assert_quiet(run)
    assert summaries(run.output) == ["--> Verify: green: 3 checks on 3 hosts"], run.describe()


def test_a_verify_during_a_deploy_says_who_holds_the_lock_and_marks_its_verdict(tmp_path, green_checks):
    holder = {"token": "other-run", "user": "ops", "machine": "bastion-2", "pid": 4242,
              "since": int(time.time()) - 60, "command": "pyinfra inventories/prod.py deploy/rollout.py"}
    deployment = Deployment(tmp_path)
    deployment.head(facts=responses.bare_debian12(LOCK=["held", json.dumps(holder)]))
    deployment.worker()
    run = deployment.run(deploy=VERIFY)
    assert run.code == 0, run.describe()
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(holder["since"]))
    who = f"ops@bastion-2 (pid 4242) since {since}, running `pyinfra inventories/prod.py deploy/rollout.py`"
    assert f"--> A deploy holds the lock: {who}" in run.output, run.describe()
    assert summaries(run.output) == [f"--> Verify: green: 2 checks on 2 hosts (taken during a deploy: {who})"]
    report = json.loads((tmp_path / "verify.json").read_text())
    assert report["during_deploy"] == who
