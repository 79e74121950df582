"""deploy/rollout.py on the lab: batches while Serve keeps answering, a failed
batch that stops the rollout, and the promotion gate."""

import threading
import time

import pytest
import requests

from lab import control as labctl

pytestmark = pytest.mark.e2e

# Requests through the head's /health allowed to fail during a rolling worker
# restart. The head holds a health replica of its own (one per node), its
# proxy routes to it first, and the head never restarts in a worker rollout,
# so the target is zero; the bound leaves room
# for one connection reset per restarted worker while Serve's proxies on the
# other nodes re-sync their routes.
FAILED_REQUEST_BOUND = 3


class HealthClient(threading.Thread):
    """Calls the head's Serve /health every 0.2 s until stopped; counts failures."""

    def __init__(self, ip: str):
        super().__init__(daemon=True)
        self.url = f"http://{ip}:8000/health"
        self.ok = 0
        self.failed: list[str] = []
        self.stop = threading.Event()

    def run(self):
        deadline = time.monotonic() + 900
        while not self.stop.is_set() and time.monotonic() < deadline:
            try:
                response = requests.get(self.url, timeout=5)
                if response.status_code == 200:
                    self.ok += 1
                else:
                    self.failed.append(f"HTTP {response.status_code}")
            except requests.RequestException as error:
                self.failed.append(type(error).__name__)
            self.stop.wait(0.2)


def rollout_inventory(name: str, stage: str, record_dir: str, release: str,
                      broken_worker: str | None = None, registry: str = "") -> str:
    return labctl.write_inventory(
        name,
        f"""
        for _name, data in ray_head + ray_workers:
            data["rollout_stage"] = {stage!r}
            data["rollout_record_dir"] = {record_dir!r}
        for _name, data in ray_workers:
            data["ray_env"] = {{"SEEDCORE_RELEASE": {release!r}}}
            if _name == {broken_worker!r}:
                data["ray_image"] = {registry!r} + "/seedcore/ray:tag-missing-from-registry"
        """,
    )


def worker_env(lab_state, host) -> str:
    _, env = labctl.run_on(lab_state, host, "sudo docker exec seedcore-ray-worker env")
    return env


def restore(lab_state):
    run = labctl.pyinfra("inventories/lab.py", "deploy/cluster.py")
    assert run.returncode == 0, run.output[-3000:]


def test_staging_rollout_restarts_workers_batch_by_batch_while_serve_answers(
    converged, lab_state, head, workers, tmp_path
):
    inventory = rollout_inventory("staging_release_2", "staging", str(tmp_path), "2")
    before = {h["name"]: labctl.started_at(lab_state, h) for h in lab_state["hosts"]}
    client = HealthClient(head["ip"])
    client.start()
    try:
        run = labctl.pyinfra(inventory, "deploy/rollout.py")
    finally:
        client.stop.set()
        client.join()
    total = client.ok + len(client.failed)
    print(f"\nrollout of {len(workers)} workers: {len(client.failed)} of {total} /health "
          f"requests failed {client.failed}")
    labctl.record_figure("rollout_health_requests", {"total": total, "failed": len(client.failed)})
    assert run.returncode == 0, run.output[-4000:]
    after = {h["name"]: labctl.started_at(lab_state, h) for h in lab_state["hosts"]}
    assert after[head["name"]] == before[head["name"]], "the head restarted in a worker rollout"
    for worker in workers:
        assert after[worker["name"]] != before[worker["name"]], worker["name"]
        assert "SEEDCORE_RELEASE=2" in worker_env(lab_state, worker)
    # Batch by batch: each worker's new container started after the previous one was green.
    starts = [after[w["name"]]["seedcore-ray-worker"] for w in workers]
    assert starts == sorted(starts)
    assert len(client.failed) <= FAILED_REQUEST_BOUND
    assert list(tmp_path.glob("*.json")), "staging recorded no verified release"

    # The same release now passes prod's gate (checked with --dry: nothing changes).
    prod = rollout_inventory("prod_release_2", "prod", str(tmp_path), "2")
    dry = labctl.pyinfra("--dry", prod, "deploy/rollout.py")
    assert dry.returncode == 0, dry.output[-3000:]


def test_prod_rollout_of_an_unverified_release_is_refused(converged, lab_state, tmp_path):
    inventory = rollout_inventory("prod_release_3", "prod", str(tmp_path), "3")
    before = {h["name"]: labctl.started_at(lab_state, h) for h in lab_state["hosts"]}
    run = labctl.pyinfra(inventory, "deploy/rollout.py")
    assert run.returncode != 0
    assert "has not been verified by a staging rollout" in run.output
    assert "rollout_allow_unverified" in run.output
    assert "Starting operation" not in run.output
    assert {h["name"]: labctl.started_at(lab_state, h) for h in lab_state["hosts"]} == before


def test_failed_second_batch_stops_the_rollout_and_later_workers_keep_their_version(
    converged, lab_state, workers, tmp_path
):
    assert len(workers) >= 3, "needs a batch after the failing one"
    first, broken, later = workers[0], workers[1], workers[2]
    inventory = rollout_inventory("staging_release_4", "staging", str(tmp_path), "4",
                                  broken_worker=broken["name"],
                                  registry=lab_state["registry"]["address"])
    before = {h["name"]: labctl.started_at(lab_state, h) for h in lab_state["hosts"]}
    try:
        run = labctl.pyinfra(inventory, "deploy/rollout.py")
        assert run.returncode != 0
        assert "tag-missing-from-registry" in run.output
        after = {h["name"]: labctl.started_at(lab_state, h) for h in lab_state["hosts"]}
        assert after[first["name"]] != before[first["name"]]
        assert "SEEDCORE_RELEASE=4" in worker_env(lab_state, first)
        for kept in (broken, later):
            assert after[kept["name"]] == before[kept["name"]], kept["name"]
            assert "SEEDCORE_RELEASE=4" not in worker_env(lab_state, kept)
        assert not list(tmp_path.glob("*.json")), "a failed rollout recorded a release"
    finally:
        restore(lab_state)
