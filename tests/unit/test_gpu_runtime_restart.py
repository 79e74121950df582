"""Docker's restart for the NVIDIA runtime follows nvidia-ctk: while planning
(and under --dry) it decides from the facts with nvidia-ctk's own decision, so
both agree on every case; once the run executes, nvidia-ctk has run (and
written daemon.json), so its result decides."""

import pytest

from seedcore.operations import gpu
from tests.harness import TESTS_DIR, FakeHost, Step, executing_host, load_cases, run_operation

CASES = [case[1:] for case in load_cases(TESTS_DIR / "operations")
         if case[0] in ("gpu.nvidia_runtime_configured", "gpu.docker_restarted_for_runtime")]
RESTART = "systemctl restart docker"


@pytest.mark.parametrize(("case", "fixture"), CASES, ids=[case for case, _ in CASES])
def test_the_restart_is_planned_exactly_when_nvidia_ctk_runs(case, fixture):
    configures = run_operation(gpu.nvidia_runtime_configured, FakeHost(facts=fixture["facts"]))
    restarts = run_operation(gpu.docker_restarted_for_runtime, FakeHost(facts=fixture["facts"]))
    assert (configures, restarts) in (
        (["nvidia-ctk runtime configure --runtime=docker"], [RESTART]), ([], []),
    ), (configures, restarts)


def test_both_ways_are_among_the_cases():
    assert {"commands" in fixture for _, fixture in CASES} == {True, False}


def test_nvidia_ctk_that_changed_daemon_json_restarts_docker():
    host = executing_host()  # no facts: once executing, the operation must not read any
    commands = run_operation(gpu.docker_restarted_for_runtime, host, changes=[Step(True)])
    assert (commands, host.noops, host.fact_calls) == ([RESTART], [], [])


def test_nvidia_ctk_that_changed_nothing_no_restart():
    host = executing_host()
    commands = run_operation(gpu.docker_restarted_for_runtime, host, changes=[Step(False)])
    assert (commands, host.noops, host.fact_calls) == ([], ["nvidia-ctk did not change daemon.json"], [])
