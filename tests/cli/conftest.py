"""The command-line tier: `pyinfra INVENTORY deploy/cluster.py` run as a user runs it,
against `@fake` hosts whose facts are scripted (no SSH, nothing changed anywhere)."""

import sys
from pathlib import Path

import pytest

# The repository root, so `deploy` and `tests.cli` import however pytest is started.
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.cli.cli import Deployment  # noqa: E402


@pytest.fixture
def deployment(tmp_path):
    """An inventory to fill in, written under tmp_path, and the CLI to run against it."""
    return Deployment(tmp_path)
