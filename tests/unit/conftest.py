"""Shared fixtures for the unit, fact and operation tests."""

import sys
from pathlib import Path

import pytest

# The repository root, so `deploy` and `tests.harness` import however pytest is started.
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.harness import make_node  # noqa: E402


@pytest.fixture
def head_node():
    return make_node(role="head", address="10.0.0.10", head_address="10.0.0.10", name="head-1")


@pytest.fixture
def worker_node():
    return make_node(role="worker", address="10.0.0.11", head_address="10.0.0.10", name="worker-1")

