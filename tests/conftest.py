"""Suite-wide switches: LAB=0 skips the end-to-end tier, and says so loudly."""

import os

import pytest

from tests import daemons

LAB_OFF = os.environ.get("LAB") == "0"
SKIP_BANNER = (
    "LAB=0: the end-to-end tier (real lab hosts over SSH, a real Ray cluster) was SKIPPED. "
    "This run proves nothing about real hosts; run `make test` without LAB=0 for that."
)


@pytest.fixture(autouse=True)
def _tls_store_in_a_temporary_directory(request, monkeypatch, tmp_path_factory):
    """Inventories without tls_dir keep their CA and node certificates in one
    directory of this test session's, never in the repository (the README's
    key table is compared with the real defaults)."""
    from seedcore.defaults import ALL_DEFAULTS

    if "docs" in request.node.path.parts:
        return
    monkeypatch.setitem(ALL_DEFAULTS, "tls_dir", str(tmp_path_factory.getbasetemp() / "tls-store"))


# The web door's password as the tests' control machine has it (seedcore/web.py asks for one of
# at least 12 characters). The lab's own inventory gives the e2e tier the lab's password.
WEB_PASSWORD = "door pass: w0rd with 'quotes' and $dollar"


@pytest.fixture(autouse=True, scope="module")
def _web_password_set(request):
    """Every inventory the unit and CLI tiers build opens the web door (web_manage is on
    by default), which needs its password in the control machine's environment. Per
    module, so a module's own fixtures (a converged @fake cluster) have it too; a test
    may still unset it with monkeypatch."""
    if "e2e" in request.node.path.parts:
        yield
        return
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SEEDCORE_WEB_PASSWORD", WEB_PASSWORD)
        yield


def pytest_collection_modifyitems(config, items):
    if not LAB_OFF:
        return
    skip = pytest.mark.skip(reason="LAB=0: end-to-end tier skipped")
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(skip)


def pytest_sessionstart(session):
    session.config.stash[DAEMONS_AT_START] = daemons.running()


def pytest_sessionfinish(session, exitstatus):
    """A daemon a test started (a gpg-agent for a throwaway keyring) and left running
    fails the run, naming it."""
    left = daemons.left_after(session.config.stash.get(DAEMONS_AT_START, {}))
    if left:
        session.config.stash[DAEMONS_LEFT] = left
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


DAEMONS_AT_START = pytest.StashKey[dict]()
DAEMONS_LEFT = pytest.StashKey[list]()


def pytest_report_header(config):
    return SKIP_BANNER if LAB_OFF else "end-to-end tier: ON (the lab is brought up fresh)"


def pytest_terminal_summary(terminalreporter):
    left = terminalreporter.config.stash.get(DAEMONS_LEFT, [])
    if left:
        terminalreporter.write_sep("!", "the suite left daemons running: " + ", ".join(left), red=True)
    if LAB_OFF:
        terminalreporter.write_sep("!", SKIP_BANNER, red=True, bold=True)
