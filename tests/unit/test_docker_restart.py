"""Docker's restart once the run executes: the package and daemon.json steps
have run by then and the facts show their outcome, so their results decide
(while planning, the facts decide: tests/operations/docker.engine_restarted)."""

from deploy.operations import docker
from tests.harness import FakeHost, run_operation


class Step:
    """An executed operation's result, as pyinfra's OperationMeta answers it."""

    def __init__(self, changed: bool):
        self.changed = changed

    def did_change(self) -> bool:
        return self.changed


def _executing_host() -> FakeHost:
    # No facts: once executing, the operation must not read any.
    host = FakeHost(facts={})
    host.state.is_executing = True
    return host


def test_a_step_that_changed_restarts_docker():
    host = _executing_host()
    commands = run_operation(docker.engine_restarted, host, daemon_json="{}\n", packages=["docker.io"],
                             changes=[Step(False), Step(True)])
    assert (commands, host.noops, host.fact_calls) == (["systemctl restart docker"], [], [])


def test_no_step_changed_no_restart():
    host = _executing_host()
    commands = run_operation(docker.engine_restarted, host, daemon_json="{}\n", packages=["docker.io"],
                             changes=[Step(False), Step(False)])
    assert (commands, host.noops) == ([], ["neither Docker's packages nor daemon.json changed"])
