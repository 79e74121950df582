"""Every fixture under tests/operations/<module>.<operation>/<case>.json, run on a fake host.

A fixture gives the operation's `kwargs`, the `node` it acts for (merged over the
defaults), the `facts` the host answers with, optionally `failed_hosts`, and
either the `commands` the operation yields or the `noop_description` it
reports when there is nothing to do. Commands are compared by what they do
(tests/shell.py): a fixture states each as argv lists run in turn, or, for a
script or a command fed on stdin, as its command line. A change case may list the `noops` pyinfra's
own operation reports along the way (apt.packages names each package already
installed); without it, a change reports none.
"""

import importlib

import pytest

from tests.harness import (
    TESTS_DIR,
    FakeHost,
    load_cases,
    node_from_fixture,
    run_operation,
    takes_node,
)
from tests.shell import assert_same_commands

OPERATIONS_DIR = TESTS_DIR / "operations"
CASES = load_cases(OPERATIONS_DIR)


def _operation(op_name: str):
    module_name, _, func_name = op_name.rpartition(".")
    module = importlib.import_module(f"seedcore.operations.{module_name}")
    return getattr(module, func_name)


@pytest.mark.parametrize(
    ("op_name", "case", "fixture"),
    CASES,
    ids=[f"{op_name}/{case}" for op_name, case, _ in CASES],
)
def test_operation(op_name, case, fixture):
    check_case(op_name, case, fixture)


def check_case(op_name: str, case: str, fixture: dict) -> list[str]:
    """Run one fixture's operation; AssertionError unless it does what the fixture
    states. Returns the commands it ran, as shown."""
    op = _operation(op_name)
    assert ("commands" in fixture) != ("noop_description" in fixture), (
        f"{op_name}/{case}: give either commands or noop_description"
    )
    kwargs = dict(fixture.get("kwargs", {}))
    if takes_node(op):
        kwargs["node"] = node_from_fixture(fixture.get("node", {}))
    host = FakeHost(
        name=kwargs["node"].name if "node" in kwargs else "node-1",
        facts=fixture.get("facts", {}),
        failed_hosts=fixture.get("failed_hosts", ()),
    )

    commands = run_operation(op, host, **kwargs)

    if "commands" in fixture:
        assert_same_commands(commands, fixture["commands"])
        assert host.noops == fixture.get("noops", [])
    else:
        assert "noops" not in fixture, f"{op_name}/{case}: a noop case gives only noop_description"
        assert commands == []
        assert host.noops == [fixture["noop_description"]]
    return commands


def _operations(module_name: str) -> list[str]:
    module = importlib.import_module(f"seedcore.operations.{module_name}")
    return sorted(
        f"{module_name}.{name}" for name, value in vars(module).items()
        if callable(value) and hasattr(value, "_inner") and value.__module__ == module.__name__
        and value._inner.is_idempotent
    )


@pytest.mark.parametrize("module_name", ["ray", "signed_apt"])
def test_fixtures_cover_every_operation(module_name):
    """Each idempotent operation has fixtures, among them a second run that changes nothing
    (one that always acts, such as apt's checked refresh, is called only after a change)."""
    by_op: dict[str, list[dict]] = {}
    for op_name, case, fixture in CASES:
        by_op.setdefault(op_name, []).append({"case": case, **fixture})

    for name in _operations(module_name):
        cases = by_op.get(name, [])
        assert any("commands" in c for c in cases), f"{name} has no case that changes something"
        second_runs = [c for c in cases if c["case"].startswith("second_run")]
        assert second_runs, f"{name} has no second_run case"
        assert all("noop_description" in c for c in second_runs), f"{name}: a second run must be a noop"


def test_missing_fact_in_fixture_fails_loudly():
    """The harness refuses to invent facts: an operation reading an absent fact errors."""
    op = _operation("ray.node_stopped")
    host = FakeHost(facts={})
    with pytest.raises(KeyError, match="ProjectContainers"):
        run_operation(op, host, node=node_from_fixture({}), config_hash="x")


def test_fact_arguments_must_match_the_fixture():
    op = _operation("ray.node_stopped")
    host = FakeHost(facts={"ProjectContainers": {"project=other": []}})
    with pytest.raises(KeyError, match="has no entry .*project=seedcore"):
        run_operation(op, host, node=node_from_fixture({}), config_hash="x")
