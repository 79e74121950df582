"""`SEEDCORE_CHECK=1 pyinfra INVENTORY deploy/cluster.py --dry`: CI's "would anything
change?", answered with one line and the exit code (0 nothing, 2 a change planned).
Verify's checks only read: they never count as a change."""

import re

import pytest

from tests.cli.cli import head_and_two_workers
from tests.cli.test_converged import WORKER_1, converge

# A cluster whose every planned step is scripted as converged: the host firewall,
# the web door and TLS (each with files of its own) are left off.
DATA = {"firewall_manage": False, "web_manage": False, "tls_enabled": False}


@pytest.fixture
def check(monkeypatch):
    monkeypatch.setenv("SEEDCORE_CHECK", "1")


def test_a_converged_cluster_would_not_change(tmp_path, check):
    deployment = head_and_two_workers(tmp_path, **DATA)
    converge(deployment, files=True)
    run = deployment.dry()
    assert run.code == 0, run.describe()
    assert run.output.rstrip().endswith("--> Nothing would change"), run.describe()
    # The verify deploy plans only its read-only checks.
    run = deployment.run("--dry", deploy="deploy/verify.py")
    assert run.code == 0, run.describe()
    assert "--> Nothing would change" in run.output, run.describe()


def test_a_stale_worker_would_change_and_exits_2(tmp_path, check):
    deployment = head_and_two_workers(tmp_path, **DATA)
    converge(deployment, stale=(WORKER_1,), files=True)
    run = deployment.dry()
    assert run.code == 2, run.describe()
    line = re.search(r"--> Would change: (\d+) operations? on 1 host \((.*)\)", run.output)
    assert line, run.describe()
    assert line.group(2) == WORKER_1
    # The compose file (its digest label) and the worker's container would change.
    assert int(line.group(1)) >= 2
    assert WORKER_1 in run.changed("Write the node's compose file")


def test_without_the_variable_a_dry_run_exits_0_as_before(tmp_path):
    deployment = head_and_two_workers(tmp_path, **DATA)
    converge(deployment, stale=(WORKER_1,), files=True)
    run = deployment.dry()
    assert run.code == 0, run.describe()
    assert "Would change" not in run.output


def test_the_check_refuses_a_run_that_would_change_the_hosts(tmp_path, check):
    deployment = head_and_two_workers(tmp_path, **DATA)
    converge(deployment, stale=(WORKER_1,), files=True)
    run = deployment.run("-y")
    assert run.code == 1, run.describe()
    assert "SEEDCORE_CHECK=1 asks whether anything would change" in run.output
    assert "add --dry" in run.output
    assert not run.started_operations, run.describe()
