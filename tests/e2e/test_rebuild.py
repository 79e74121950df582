"""deploy/rebuild.py on the lab: lost hosts come back bare and the cluster is
green again; what a broken cluster logged is archived first."""

import time

import pytest
import requests

from lab import control as labctl
from lab import lifecycle as lab_lifecycle

pytestmark = pytest.mark.e2e


def cluster_is_green(lab_state, head) -> None:
    ip = head["ip"]
    health = requests.get(f"http://{ip}:8000/health", timeout=10).json()
    assert health["status"] == "ok"
    assert health["alive_nodes"] == len(lab_state["hosts"])
    for host in lab_state["hosts"]:
        assert requests.get(f"http://{host['ip']}:8080/metrics", timeout=10).status_code == 200


def test_lost_worker_rebuilt_from_bare_with_logs_archived(converged, lab_state, head, workers):
    survivor = workers[-1]
    # Break the survivor's node too, so the rebuild has something to archive.
    code, out = labctl.run_on(lab_state, survivor, "sudo docker kill seedcore-ray-worker")
    assert code == 0, out
    lost = workers[0]
    lab_lifecycle.recreate(lost["name"])
    code, out = labctl.run_on(lab_state, lost, "command -v docker || echo bare")
    assert out.strip() == "bare"

    started = time.monotonic()
    run = labctl.pyinfra("inventories/lab.py", "deploy/rebuild.py")
    seconds = time.monotonic() - started
    print(f"\nrebuild of one bare worker (and one killed worker) to green: {seconds:.0f}s")
    labctl.record_figure("rebuild_bare_worker_to_green_s", round(seconds, 1))
    assert run.returncode == 0, run.output[-4000:]
    cluster_is_green(lab_state, head)

    code, listing = labctl.run_on(
        lab_state, survivor, "sudo sh -c 'ls -d /opt/seedcore/archive/*/ && ls /opt/seedcore/archive/*/'"
    )
    assert code == 0, listing
    assert "seedcore-ray-worker.log" in listing
    assert "seedcore-ray-worker-ray-logs" in listing
    code, logs = labctl.run_on(
        lab_state, survivor, "sudo sh -c 'cat /opt/seedcore/archive/*/seedcore-ray-worker.log'"
    )
    assert code == 0, logs
    # The worker's own start line, as `ray start` prints it, with Docker's timestamp in front.
    assert "Ray runtime started." in logs, logs[:500]
    code, mode = labctl.run_on(lab_state, survivor, "sudo sh -c 'stat -c %a /opt/seedcore/archive/*/'")
    assert code == 0 and set(mode.split()) == {"700"}, mode


def test_lost_head_rebuilt_brings_back_head_workers_and_serve(converged, lab_state, head):
    lab_lifecycle.recreate(head["name"])
    started = time.monotonic()
    run = labctl.pyinfra("inventories/lab.py", "deploy/rebuild.py")
    labctl.record_figure("rebuild_bare_head_to_green_s", round(time.monotonic() - started, 1))
    assert run.returncode == 0, run.output[-4000:]
    assert "points at" not in run.output or "re-pointed" in run.output
    cluster_is_green(lab_state, head)
    # The head restarted, so every worker was recreated: each archived its container first.
    for worker in [h for h in lab_state["hosts"] if h["role"] == "worker"]:
        code, listing = labctl.run_on(
            lab_state, worker, "sudo sh -c 'ls /opt/seedcore/archive/*/ | grep -x seedcore-ray-worker.log'")
        assert code == 0, f"{worker['name']}: no archive of its worker before the head rebuild: {listing}"
