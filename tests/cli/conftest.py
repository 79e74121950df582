"""The command-line tier: `pyinfra INVENTORY deploy/cluster.py` run as a user runs it,
against `@fake` hosts whose facts are scripted (no SSH, nothing changed anywhere)."""

import ipaddress
import sys
from pathlib import Path

import pytest

# The repository root, so `deploy` and `tests.cli` import however pytest is started.
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from seedcore import reach  # noqa: E402
from tests.cli.cli import Deployment  # noqa: E402


@pytest.fixture
def deployment(tmp_path):
    """An inventory to fill in, written under tmp_path, and the CLI to run against it."""
    return Deployment(tmp_path)


def _refuse_test_net(address: str, port: int, timeout: float):
    """The checks' connections from this machine: an address of TEST-NET-1 (RFC 5737,
    the tier's fake hosts) refuses at once, as a host with nothing listening would,
    instead of timing out after the checks' full timeout; any other is connected."""
    if ipaddress.ip_address(address.strip("[]")) in TEST_NET_1:
        raise ConnectionRefusedError(f"{address}:{port} is in TEST-NET-1, where nothing answers")
    return reach._direct(address, port, timeout)


TEST_NET_1 = ipaddress.ip_network("192.0.2.0/24")


@pytest.fixture(autouse=True)
def _fake_hosts_refuse_at_once(monkeypatch):
    """Runs of this tier happen in this process (tests/cli/inprocess.py): the
    checks' reach from the control machine answers for the fake hosts at once."""
    refusing = reach.Reach("from the control machine", connect=_refuse_test_net)
    monkeypatch.setattr(reach, "FROM_CONTROL", refusing)
