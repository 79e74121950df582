"""Head fault tolerance on the lab: a client calls /health through a worker
every 0.2 s while (a) a release restarts the head and (b) the head host is
destroyed and rebuilt; first without the GCS store (the contrast), then with
it. Figures go to reports/e2e/figures.json under head_ft / no_head_ft.

The lab is the shared one (conftest: a Debian 12 head, workers of Debian 13
and 12). With the store, its third host (a Debian 12 worker before) is the
store: its Ray worker is removed by hand first, as an operator frees a host
for it. The module leaves the lab converged as conftest made it.
"""

import json

import pytest
import requests

from deploy.checks import redis_ask
from lab import control as labctl
from lab import headft

pytestmark = pytest.mark.e2e


def record(section: str, case: str, figures: dict) -> None:
    for key, value in figures.items():
        labctl.record_figure(f"{section}.{case}.{key}", value)


@pytest.fixture(scope="module")
def roles(lab_state):
    return headft.roles_of(lab_state)


@pytest.fixture(scope="module")
def restore_lab(converged, lab_state):
    """Leave the lab as conftest made it: no store, every host a Ray node."""
    yield
    run = labctl.pyinfra("inventories/lab.py", "deploy/cluster.py")
    assert run.returncode == 0, run.output[-3000:]


def test_without_the_store_a_head_release_restarts_every_worker(restore_lab, lab_state, roles):
    result = headft.release_without_store(lab_state, roles)
    assert result["run"].returncode == 0, result["run"].output[-3000:]
    record("no_head_ft", "head_restart", result["figures"])
    assert result["figures"]["workers_restarted"] == len(roles["all_workers"])


def test_without_the_store_a_rebuilt_head_restarts_every_worker(restore_lab, lab_state, roles):
    result = headft.rebuild_without_store(lab_state, roles)
    assert result["run"].returncode == 0, result["run"].output[-3000:]
    record("no_head_ft", "head_rebuild", result["figures"])
    assert result["figures"]["workers_restarted"] == len(roles["all_workers"])


def test_moving_the_running_cluster_onto_the_store(restore_lab, lab_state, roles):
    run = headft.move_onto_store(lab_state, roles)
    assert run.returncode == 0, run.output[-4000:]
    head, store = roles["head"], roles["store"]
    report = json.loads((labctl.REPO / "reports" / "verify.json").read_text())
    checks = {c["check"]: c for c in report["hosts"][head["name"]]["checks"]}
    assert checks["gcs store"]["ok"], checks["gcs store"]
    assert checks["gcs tables in store"]["ok"], checks["gcs tables in store"]
    assert checks["gcs storage type"]["detail"] == (
        "the GCS reports StorageType::REDIS_PERSIST; expected StorageType::REDIS_PERSIST")
    # What verify saw, seen again here: Redis holds the GCS tables under the namespace.
    # From the head: the store's firewall admits the head(s) only.
    with labctl.reach_from(lab_state, head) as reach:
        entries = redis_ask(reach, f"{store['ip']}:6379", headft.PASSWORD, "HLEN", "seedcore")
    assert entries.startswith(":") and int(entries[1:].split()[0]) > 0, entries
    # Redis listens on the store's private address only; its config is root and redis only.
    code, out = labctl.run_on(
        lab_state, store,
        "sudo ss -Hltn 'sport = :6379' | awk '{print $4}'; sudo stat -c '%U:%G %a' /etc/redis/redis.conf")
    assert out.split() == [f"{store['ip']}:6379", "root:redis", "640"], out
    # Every node answers Serve itself.
    for node in [head, *roles["workers"]]:
        assert requests.get(f"http://{node['ip']}:8000/-/healthz", timeout=10).text == "success"
        assert requests.get(f"http://{node['ip']}:8000/health", timeout=10).json()["status"] == "ok"


def test_with_the_store_a_head_release_restarts_the_head_alone(restore_lab, lab_state, roles):
    deployed = headft.serve_deployed_at(roles["head"])
    result = headft.release_with_store(lab_state, roles)
    assert result["run"].returncode == 0, result["run"].output[-3000:]
    assert "the head restarts alone" in result["run"].output
    record("head_ft", "head_restart", result["figures"])
    assert result["figures"]["head_back_s"] > 0, "the head was not restarted"
    assert result["figures"]["workers_restarted"] == 0, (result["before"], result["after"])
    assert result["figures"]["failed_requests"] == 0
    # Serve's applications came back from the store, not from a redeploy.
    assert headft.serve_deployed_at(roles["head"]) == deployed


def test_with_the_store_a_rebuilt_head_host_finds_its_workers_and_serve(restore_lab, lab_state, roles):
    deployed = headft.serve_deployed_at(roles["head"])
    result = headft.rebuild_with_store(lab_state, roles)
    assert result["run"].returncode == 0, result["run"].output[-3000:]
    record("head_ft", "head_rebuild", result["figures"])
    assert result["figures"]["head_back_s"] > 0, "the head was not away"
    assert result["figures"]["workers_restarted"] == 0, (result["before"], result["after"])
    assert result["figures"]["failed_requests"] == 0
    assert headft.serve_deployed_at(roles["head"]) == deployed
