"""A rollout batch's green check: a restarted worker whose container exited is
red at once, not after rollout_batch_timeout_s. The probes go to this
machine's loopback, on ports nothing listens on."""

import socket
import time

import pytest

from seedcore.tasks.rollout import BatchNotGreen, check_worker_green
from tests.harness import CONTAINERS_KEY, FakeHost, make_node


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _worker():
    settings = {"ray_dashboard_port": _free_port(), "ray_metrics_export_port": _free_port(),
                "rollout_batch_timeout_s": 300}
    return make_node(role="worker", address="127.0.0.1", head_address="127.0.0.1", name="worker-1",
                     settings=settings)


def _host_with(status: str) -> FakeHost:
    container = {"name": "seedcore-ray-worker", "status": status, "health": "", "managed": True}
    return FakeHost(name="worker-1", facts={"ProjectContainers": {CONTAINERS_KEY: [container]}})


def test_a_worker_whose_container_exited_is_red_at_once():
    started = time.monotonic()
    with pytest.raises(BatchNotGreen) as raised:
        check_worker_green(_worker(), _host_with("exited"))
    assert time.monotonic() - started < 30
    message = str(raised.value)
    assert "node alive: container seedcore-ray-worker is exited, not running (red at once" in message
    assert "metrics: container seedcore-ray-worker is exited, not running (red at once" in message


def test_a_running_worker_that_is_not_green_yet_is_waited_for():
    node = _worker()
    node.settings["rollout_batch_timeout_s"] = 1
    with pytest.raises(BatchNotGreen) as raised:
        check_worker_green(node, _host_with("running"))
    assert "gave up after" in str(raised.value)


def test_the_running_operations_host_is_read_once_before_the_checks_go_side_by_side():
    from pyinfra.context import ctx_host

    # The checks run in threads of their own, where pyinfra's `host` names no host:
    # the worker's host is taken from the operation's context before they start.
    with ctx_host.use(_host_with("exited")), pytest.raises(BatchNotGreen) as raised:
        check_worker_green(_worker())
    message = str(raised.value)
    assert "node alive: container seedcore-ray-worker is exited, not running (red at once" in message
