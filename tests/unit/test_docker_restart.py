"""Docker's restart once the run executes: the package and daemon.json steps
have run by then and the facts show their outcome, so their results decide
(while planning, the facts decide: tests/operations/docker.engine_restarted)."""

from deploy.operations import docker
from tests.harness import Step, executing_host, run_operation


def test_a_step_that_changed_restarts_docker():
    host = executing_host()  # no facts: once executing, the operation must not read any
    commands = run_operation(docker.engine_restarted, host, daemon_json="{}\n", packages=["docker.io"],
                             changes=[Step(False), Step(True)])
    assert (commands, host.noops, host.fact_calls) == (["systemctl restart docker"], [], [])


def test_no_step_changed_no_restart():
    host = executing_host()  # no facts: once executing, the operation must not read any
    commands = run_operation(docker.engine_restarted, host, daemon_json="{}\n", packages=["docker.io"],
                             changes=[Step(False), Step(False)])
    assert (commands, host.noops) == ([], ["neither Docker's packages nor daemon.json changed"])
