"""Docker's restart once the run executes: the package and daemon.json steps
have run by then and the facts show their outcome, so their results decide
(while planning, the facts decide: tests/operations/docker.engine_restarted)."""

from seedcore.operations import docker
from tests.harness import FakeHost, Step, executing_host, run_operation


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


def test_docker_installed_for_the_first_time_is_not_restarted():
    """Its package starts it, and daemon.json was written before it."""
    host = executing_host()
    commands = run_operation(docker.engine_restarted, host, daemon_json="{}\n", packages=["docker.io"],
                             changes=[Step(True), Step(True)], first_install=Step(True))
    assert commands == []
    assert host.noops == ["Docker is installed for the first time, after daemon.json: its package starts it "
                          "with it"]


def test_a_first_install_that_did_not_happen_leaves_the_changes_to_decide():
    host = executing_host()
    commands = run_operation(docker.engine_restarted, host, daemon_json="{}\n", packages=["docker.io"],
                             changes=[Step(True), Step(False)], first_install=Step(False))
    assert commands == ["systemctl restart docker"]


def test_while_planning_a_first_install_needs_no_restart_and_reads_no_fact():
    host = FakeHost(facts={})  # planning: no fact is asked for
    commands = run_operation(docker.engine_restarted, host, daemon_json="{}\n", packages=["docker.io"],
                             changes=[], first_install=Step(False))
    assert (commands, host.fact_calls) == ([], [])
    assert host.noops == ["Docker is installed for the first time, after daemon.json: its package starts it "
                          "with it"]
