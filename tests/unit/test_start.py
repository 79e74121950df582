"""Every run starts the same way (seedcore/start.py): watched, checked, then locked."""

import pytest

from seedcore import start
from seedcore.run_context import run_of
from seedcore.validate import InventoryError
from tests.harness import FakeState


@pytest.fixture
def steps(monkeypatch):
    done = []
    monkeypatch.setattr(start, "watch", lambda state: done.append("watch"))
    monkeypatch.setattr(start, "run_preflight", lambda state, allow_docker_down: done.append(
        f"preflight(docker down ok={allow_docker_down})"))
    monkeypatch.setattr(start, "check_inventory", lambda inventory: done.append("data only") or [])
    monkeypatch.setattr(start, "release_gate", lambda inventory: done.append("release gate"))
    monkeypatch.setattr(start, "hold_lock", lambda state: done.append("lock"))
    return done


@pytest.mark.parametrize("kind, expected", [
    (start.Kind.CONVERGE, ["watch", "preflight(docker down ok=False)", "lock"]),
    (start.Kind.REBUILD, ["watch", "preflight(docker down ok=True)", "lock"]),
    (start.Kind.ROLLOUT, ["watch", "preflight(docker down ok=False)", "release gate", "lock"]),
    (start.Kind.VERIFY, ["watch", "data only"]),
])
def test_each_kind_of_run_starts_in_one_order(steps, kind, expected):
    state = FakeState()
    state.inventory = object()
    run = start.start_run(state, kind)
    assert steps == expected
    assert run is run_of(state) and run.kind == kind.value


def test_a_refused_check_takes_no_lock(steps, monkeypatch):
    def refuse(state, allow_docker_down):
        raise InventoryError("host worker-1: ray_gcs_port 99999 is out of range")

    monkeypatch.setattr(start, "run_preflight", refuse)
    state = FakeState()
    state.inventory = object()
    with pytest.raises(InventoryError, match="ray_gcs_port"):
        start.start_run(state, start.Kind.CONVERGE)
    assert steps == ["watch"]


def test_verify_refuses_bad_data_before_anything_runs(steps, monkeypatch):
    monkeypatch.setattr(start, "check_inventory", lambda inventory: ["host head-1: ray_image is not set"])
    state = FakeState()
    state.inventory = object()
    with pytest.raises(InventoryError, match="ray_image is not set"):
        start.start_run(state, start.Kind.VERIFY)
    assert steps == ["watch"]


def test_every_entry_point_starts_through_start_run():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "deploy"
    for name, kind in (("cluster", "CONVERGE"), ("rebuild", "REBUILD"), ("rollout", "ROLLOUT"),
                       ("verify", "VERIFY")):
        source = (root / f"{name}.py").read_text()
        assert f"start_run(state, Kind.{kind})" in source, name
        for step in ("watch(state)", "run_preflight(", "hold_lock("):
            assert step not in source, f"deploy/{name}.py calls {step} itself"


def test_a_refusal_for_one_host_keeps_every_host_of_the_run_from_the_lock(steps, monkeypatch):
    """pyinfra loads the entry point once per host: the hosts after the one that ran
    preflight must be refused too, not pass by to take the lock on the head."""
    from seedcore.tasks import preflight

    monkeypatch.setattr(start, "run_preflight", preflight.run_preflight)
    monkeypatch.setattr(preflight, "check_inventory",
                        lambda inventory: ["host worker-1: only 900 MiB free under /var/lib/docker"])
    state = FakeState()
    state.inventory = object()
    for _host in ("head-1", "worker-1", "worker-2"):
        with pytest.raises(InventoryError, match="only 900 MiB free"):
            start.start_run(state, start.Kind.CONVERGE)
    assert "lock" not in steps
