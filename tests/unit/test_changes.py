"""One way to act when an earlier step changed the host: pyinfra's `_if=` on the
earlier operations' results, through seedcore/changes.py; the other forms are refused."""

import re
from pathlib import Path

import pytest
from pyinfra.api.operation import OperationMeta

from seedcore.changes import after_change

ROOT = Path(__file__).resolve().parents[2]


def planned(change: bool) -> OperationMeta:
    """An operation as pyinfra plans it: it will change the host, or not."""
    return OperationMeta("hash", change)


def ran(meta: OperationMeta, changed: bool) -> OperationMeta:
    meta.set_complete(True, ["a command"] if changed else [], None)
    return meta


def test_no_earlier_step_will_change_the_host_so_the_step_is_not_called():
    assert after_change(planned(False), planned(False)) is None


def test_a_step_that_will_change_makes_the_later_one_conditional_on_its_result():
    config, package = planned(True), planned(False)
    condition = after_change(config, package)
    assert condition is not None
    ran(config, changed=False)
    ran(package, changed=False)
    # The plan said it would change; as it ran, it did not: the later step does nothing.
    assert condition() is False


def test_the_condition_is_the_earlier_steps_outcome():
    config, package = planned(True), planned(True)
    condition = after_change(config, package)
    ran(config, changed=False)
    ran(package, changed=True)
    assert condition() is True


def test_a_step_that_does_more_is_called_in_its_place():
    # A reload is not called when a restart (after `unless`) is.
    assert after_change(planned(True), unless=(planned(True),)) is None
    assert after_change(planned(True), unless=(planned(False),)) is not None


def test_a_step_that_already_ran_is_judged_by_its_result():
    assert after_change(ran(planned(None), changed=True)) is not None
    assert after_change(ran(planned(None), changed=False)) is None


# The other forms of "act when an earlier step changed": an operation branching
# between planning and executing, did_change() or any_changed outside
# seedcore/changes.py, a restart decided from the files' digests while planning.
OTHER_FORMS = re.compile(
    r"host\.state\.is_executing|\.did_change\(|\bany_changed\(|\ball_changed\("
    r"|\bdef _differs\(|hashlib\.sha256\(text")
CHANGES = ROOT / "seedcore" / "changes.py"
# Where a digest of a text is compared for its own sake (not to decide a later step).
DIGESTS_OF_THEIR_OWN = {ROOT / "seedcore" / "operations" / "secret_files.py",
                        # a diff telling a changed secret from an unchanged one, never shown
                        ROOT / "seedcore" / "masking.py"}


def test_no_module_acts_on_a_change_another_way():
    found = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
             for package in ("seedcore", "deploy") for path in sorted((ROOT / package).rglob("*.py"))
             if path != CHANGES and path not in DIGESTS_OF_THEIR_OWN
             for number, line in enumerate(path.read_text().splitlines(), 1)
             if OTHER_FORMS.search(line) and not line.lstrip().startswith("#")]
    assert found == []


@pytest.mark.parametrize("line", [
    "if host.state.is_executing:",
    "if not any(change.did_change() for change in changes):",
    "_if=any_changed(installed, config)",
    "def _differs(path: str, text: str) -> bool:",
])
def test_the_guard_sees_another_form(line):
    assert OTHER_FORMS.search(line)
