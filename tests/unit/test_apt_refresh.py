"""apt's refresh follows the signing key and the source: while planning (and
under --dry) it decides from the facts, the key as `signing_key` decides and
the source as pyinfra's `apt.sources_file` decides, so they agree on every
case; once the run executes, the key and source steps have run, so their
results decide. The planning cases: tests/operations/signed_apt.refreshed."""

import pytest
from pyinfra.context import ctx_host, ctx_state
from pyinfra.operations import apt

from seedcore.operations import signed_apt
from tests.harness import TESTS_DIR, FakeHost, Step, executing_host, load_cases, run_operation

CASES = [case[1:] for case in load_cases(TESTS_DIR / "operations") if case[0] == "signed_apt.refreshed"]
SOURCES_FILE = "/etc/apt/sources.list.d/docker.sources"
UPDATE_FAILS_ON = "grep -q -E 'NO_PUBKEY|BADSIG|EXPKEYSIG|KEYEXPIRED|REVKEYSIG|is not signed'"


def _listed(host: FakeHost, source: dict) -> bool:
    with ctx_state.use(host.state), ctx_host.use(host):
        return signed_apt.source_listed(source)


@pytest.mark.parametrize(("case", "fixture"), CASES, ids=[case for case, _ in CASES])
def test_the_source_is_judged_as_apt_sources_file_judges_it(case, fixture, monkeypatch):
    # apt.sources_file ends in files.put when it decides to write: stand in for that step.
    monkeypatch.setattr(apt.files.put, "_inner", lambda dest, **_: iter([f"write {dest}"]))
    source = fixture["kwargs"]["source"]
    host = FakeHost(facts=fixture["facts"])
    writes = run_operation(apt.sources_file, host, filename="docker", **source)
    if _listed(FakeHost(facts=fixture["facts"]), source):
        assert (writes, host.noops) == ([], [f'apt sources file "{SOURCES_FILE}" is already configured'])
    else:
        assert (writes, host.noops) == ([f"write {SOURCES_FILE}"], [])


def test_both_ways_are_among_the_cases():
    assert {_listed(FakeHost(facts=fixture["facts"]), fixture["kwargs"]["source"])
            for _, fixture in CASES} == {True, False}


def _executing(installed: dict, *changed: bool) -> tuple[list[str], FakeHost]:
    converged = dict(CASES)["second_run_converged"]
    host = executing_host(facts={"DebPackages": installed})
    commands = run_operation(signed_apt.refreshed, host, **converged["kwargs"],
                             changes=[Step(flag) for flag in changed])
    return commands, host


INSTALLED = {"docker-ce": ["5:27.3.1-1~debian.12~bookworm"], "containerd.io": ["1.7.22-1"]}


@pytest.mark.parametrize("changed", [(True, False), (False, True)], ids=["key", "source"])
def test_a_changed_key_or_source_is_followed_by_the_update(changed):
    commands, host = _executing(INSTALLED, *changed)
    assert len(commands) == 1 and UPDATE_FAILS_ON in commands[0], commands
    assert commands == dict(CASES)["keyring_absent"]["commands"]
    assert host.noops == []


def test_a_package_not_installed_yet_is_preceded_by_the_update():
    commands, host = _executing({"containerd.io": ["1.7.22-1"]}, False, False)
    assert commands == dict(CASES)["keyring_absent"]["commands"]
    assert host.noops == []


def test_nothing_changed_and_packages_installed_no_update():
    commands, host = _executing(INSTALLED, False, False)
    assert (commands, host.noops) == (
        [], ["neither the key nor the source changed and its packages are installed"])
    # Once executing only the packages are read: the key and source steps have run.
    assert [name for name, _ in host.fact_calls] == ["DebPackages"]
