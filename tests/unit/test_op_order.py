"""deploy.op_order: the operation order pyinfra computes, read from the frames."""

import sys
from importlib import import_module
from types import SimpleNamespace

import pyinfra
import pytest
from pyinfra.api import util as pyinfra_util

from deploy import op_order

OPERATION = import_module("pyinfra.api.operation")


def _order(reader, state, monkeypatch) -> tuple:
    # Through pyinfra's own caller, so the frames above the reader are pyinfra's.
    monkeypatch.setattr(OPERATION, "get_operation_order_from_stack", reader)
    host = SimpleNamespace(op_hash_order=[], loop_position=[])
    order, _ = OPERATION.solve_operation_consistency({"an operation"}, state, host)
    return order


def _both(state, monkeypatch) -> list[tuple]:
    return [_order(reader, state, monkeypatch)
            for reader in (pyinfra_util.get_operation_order_from_stack, op_order.operation_order)]


def _deploy_code(state, monkeypatch) -> list[tuple]:
    # As a deploy file calls an operation from inside its own functions.
    def nested():
        return _both(state, monkeypatch)
    return nested()


@pytest.mark.parametrize("deploy_file", [__file__, None, "deploy/not_on_the_stack.py"],
                         ids=["deploy file on the stack", "no deploy file", "deploy file not on the stack"])
def test_the_order_is_pyinfras_own(monkeypatch, deploy_file):
    monkeypatch.setattr(pyinfra, "is_cli", True)
    state = SimpleNamespace(current_deploy_filename=deploy_file, current_op_file_number=3)
    theirs, ours = _deploy_code(state, monkeypatch)
    assert ours == theirs
    assert theirs[0] == 3


def test_the_order_names_the_lines_of_the_calls_in_the_deploy_file(monkeypatch):
    monkeypatch.setattr(pyinfra, "is_cli", True)
    state = SimpleNamespace(current_deploy_filename=__file__, current_op_file_number=0)
    call = sys._getframe().f_lineno + 1
    theirs, ours = _deploy_code(state, monkeypatch)
    # The file number, then the line of each call from the deploy file's
    # outermost frame inwards: this test's first.
    assert ours == theirs
    assert ours[:2] == (0, call)
    assert ours[2] == _deploy_code.__code__.co_firstlineno + 4


def test_it_is_installed_for_the_pinned_pyinfra_only(monkeypatch):
    monkeypatch.setattr(OPERATION, "get_operation_order_from_stack",
                        pyinfra_util.get_operation_order_from_stack)
    monkeypatch.setattr(pyinfra, "__version__", "0.0.0")
    assert op_order.install() is False
    assert OPERATION.get_operation_order_from_stack is pyinfra_util.get_operation_order_from_stack
    monkeypatch.setattr(pyinfra, "__version__", op_order.CHECKED_PYINFRA[0])
    assert op_order.install() is True
    assert OPERATION.get_operation_order_from_stack is op_order.operation_order


def test_the_pinned_pyinfra_is_one_it_was_checked_against():
    pinned = next(line.split("==")[1].strip() for line in open("requirements.txt")
                  if line.startswith("pyinfra=="))
    assert pinned in op_order.CHECKED_PYINFRA
