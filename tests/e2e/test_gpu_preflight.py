"""A lab host put in the `gpu` group (it has no GPU) stops the deploy in
preflight, and the rest of the lab is left untouched."""

import pytest

from lab import control as labctl

pytestmark = pytest.mark.e2e


def test_gpu_host_without_a_driver_stops_the_deploy_before_any_change(converged, lab_state, workers):
    target = workers[0]
    inventory = labctl.write_inventory(
        "worker_in_gpu_group",
        f"""
        gpu = [(name, data) for name, data in ray_workers if name == {target['name']!r}]
        """,
    )
    before = {h["name"]: labctl.started_at(lab_state, h) for h in lab_state["hosts"]}
    run = labctl.pyinfra(inventory, "deploy/cluster.py")
    assert run.returncode != 0
    assert f"host {target['name']} is in group gpu but has no working NVIDIA driver" in run.output
    assert "nvidia-smi not found" in run.output
    assert "nothing was changed on any host" in run.output
    assert "Starting operation" not in run.output
    assert {h["name"]: labctl.started_at(lab_state, h) for h in lab_state["hosts"]} == before
    toolkit_list = "/etc/apt/sources.list.d/nvidia-container-toolkit.list"
    code, _ = labctl.run_on(lab_state, target, f"test -e {toolkit_list}")
    assert code != 0, "the toolkit repository was added although preflight failed"
