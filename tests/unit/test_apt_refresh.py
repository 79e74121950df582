"""The deploy's own source step judges a deb822 source as pyinfra's
`apt.sources_file` judges it, so they agree on every case (tests/unit/apt_source_cases)."""

import pytest
from pyinfra.context import ctx_host, ctx_state
from pyinfra.operations import apt

from seedcore.operations import signed_apt
from tests.harness import TESTS_DIR, FakeHost, load_cases, run_operation

CASES = [case[1:] for case in load_cases(TESTS_DIR / "unit" / "apt_source_cases")]
SOURCES_FILE = "/etc/apt/sources.list.d/docker.sources"


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
