"""The wait for Serve's health route follows the Serve deploy: while planning
(and under --dry) it decides from the facts with the deploy's own decision,
so both agree on every case; once the run executes, the deploy has run and
written its marker, so the deploy's result decides."""

import pytest

from seedcore.operations import ray
from tests.harness import (
    TESTS_DIR,
    FakeHost,
    Step,
    executing_host,
    load_cases,
    node_from_fixture,
    run_operation,
)

WAIT = ("docker exec seedcore-ray-head python /srv/seedcore/serve/seedcore_route_check.py "
        "--port 8000 --route /health --timeout 90")
DEPLOY_CASES = [case for case in load_cases(TESTS_DIR / "operations") if case[0] == "ray.serve_deployed"]
WAIT_ARGS = {"route_check_path": "/srv/seedcore/serve/seedcore_route_check.py", "timeout_s": 90}


@pytest.mark.parametrize("head_hash", ["", "4b7d2e9a1c3f5e60", "0123456789abcdef"])
@pytest.mark.parametrize(("case", "fixture"), [case[1:] for case in DEPLOY_CASES],
                         ids=[case[1] for case in DEPLOY_CASES])
def test_the_wait_is_planned_exactly_when_the_deploy_is(case, fixture, head_hash):
    node = node_from_fixture(fixture.get("node", {}))
    decision = {**fixture["kwargs"], "head_hash": head_hash}
    deploys = run_operation(ray.serve_deployed, FakeHost(name=node.name, facts=fixture["facts"]),
                            node=node, **decision)
    decision.pop("config_path")
    waits = run_operation(ray.serve_route_answers, FakeHost(name=node.name, facts=fixture["facts"]),
                          node=node, **decision, **WAIT_ARGS)
    assert (len(deploys), waits) == (1, [WAIT]) or (deploys, waits) == ([], []), (deploys, waits)


def test_both_ways_are_among_the_cases():
    planned = set()
    for _, _, fixture in DEPLOY_CASES:
        planned.add("commands" in fixture)
    assert planned == {True, False}


def _executing(changed: bool) -> tuple[list[str], FakeHost]:
    host = executing_host()  # no facts: once executing, the operation must not read any
    commands = run_operation(ray.serve_route_answers, host, node=node_from_fixture({}),
                             config_digest="5d41402abc4b2a76", marker_path="/opt/seedcore/.serve-deployed",
                             changes=[Step(changed)], **WAIT_ARGS)
    return commands, host


def test_a_deploy_that_ran_is_followed_by_the_wait():
    commands, host = _executing(True)
    assert (commands, host.noops, host.fact_calls) == ([WAIT], [], [])


def test_no_deploy_in_this_run_no_wait():
    commands, host = _executing(False)
    assert (commands, host.noops) == ([], ["the Serve config was not deployed in this run"])
    assert host.fact_calls == []
