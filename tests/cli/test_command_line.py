"""The real `pyinfra` command line, as its own process: the rest of this tier
runs pyinfra's click command inside the test process (tests/cli/inprocess.py),
and these show that the executable behaves the same and exits as an operator
and a CI job see it."""

import os
import signal
import sys

from tests.cli.cli import WORKER_IPS, assert_refused, run_cli, run_cli_subprocess


def test_a_refused_inventory_exits_non_zero_and_names_the_problem(deployment):
    deployment.head()
    deployment.head("head-2", WORKER_IPS[0])
    path = deployment.write()

    run = run_cli_subprocess(path, "--dry")

    assert run.code == 1, run.describe()
    assert any("head" in line for line in assert_refused(run, path)), run.describe()


def test_the_executable_and_the_in_process_run_plan_the_same_and_exit_zero(deployment):
    deployment.head()
    deployment.worker()
    path = deployment.write()

    real = run_cli_subprocess(path, "--dry")
    inside = run_cli(path, "--dry")

    assert real.code == inside.code == 0, real.describe() + inside.describe()
    assert real.rows and real.rows == inside.rows, real.describe() + inside.describe()


def test_a_run_in_process_leaves_the_process_as_it_found_it(deployment):
    deployment.head()
    deployment.worker()
    before = (os.getcwd(), signal.getsignal(signal.SIGINT), list(sys.argv))

    run = deployment.run("-y")

    assert run.started_operations, run.describe()
    assert (os.getcwd(), signal.getsignal(signal.SIGINT), list(sys.argv)) == before
