"""deploy/cluster.py on the lab, checked from outside: the tests talk to the
endpoints and the hosts themselves instead of trusting the deploy's report."""

import json
import re

import pytest
import requests

from lab import control as labctl

pytestmark = pytest.mark.e2e


def get(url: str) -> requests.Response:
    return requests.get(url, timeout=10)


def test_dry_run_on_bare_hosts_lists_the_whole_install(bare_dry_run):
    out = bare_dry_run.output
    assert bare_dry_run.returncode == 0, out
    for step in (
        "Write the firewall rules (root only)",
        "Install Docker's packages from docker_install_source",
        "Write /etc/docker/daemon.json",
        "Write the Ray env file",
        "Pull ",
        "Start the Ray head",
        "Start the Ray worker once the head is healthy",
        "Deploy the Serve config",
    ):
        assert step in out, f"--dry on bare hosts does not mention {step!r}"


def test_a_refused_run_on_bare_hosts_leaves_them_bare_the_lock_included(bare_refused_run, head):
    run, left = bare_refused_run
    assert run.returncode != 0, run.output[-3000:]
    assert "nothing was changed on any host" in run.output
    assert "ray_archive_max_mb" in run.output
    assert "Starting operation" not in run.output
    # No /opt/seedcore (where the deploy lock lives) on any host, the head included.
    assert all("seedcore" not in entries for entries in left.values()), left


def test_head_answers_every_endpoint(converged, lab_state, head):
    ip = head["ip"]
    version = get(f"http://{ip}:8265/api/version").json()
    assert version["ray_version"] == "2.20.0"
    assert get(f"http://{ip}:8265/api/gcs_healthz").text.strip() == "success"
    nodes = get(
        f"http://{ip}:8265/api/v0/nodes?filter_keys=state&filter_predicates=%3D&filter_values=ALIVE"
    ).json()["data"]["result"]["result"]
    assert sorted(n["node_ip"] for n in nodes) == sorted(h["ip"] for h in lab_state["hosts"])
    assert get(f"http://{ip}:8000/-/healthz").status_code == 200
    health = get(f"http://{ip}:8000/health").json()
    assert health == {"status": "ok", "ray_version": "2.20.0", "alive_nodes": len(lab_state["hosts"])}


def test_every_node_serves_ray_metrics_on_8080(converged, lab_state):
    for host in lab_state["hosts"]:
        response = get(f"http://{host['ip']}:8080/metrics")
        assert response.status_code == 200, host["name"]
        assert re.search(r"^ray_", response.text, re.M), host["name"]


def test_dashboard_metrics_server_runs_apart_from_the_export_port(converged, lab_state, head):
    response = get(f"http://{head['ip']}:44227/metrics")
    assert response.status_code == 200
    code, logs = labctl.run_on(lab_state, head, "sudo docker logs seedcore-ray-head 2>&1")
    assert code == 0
    assert "Address already in use" not in logs
    assert "assert not dest.done()" not in logs


def test_env_file_is_root_only_and_holds_both_blocks(converged, lab_state, head):
    code, out = labctl.run_on(lab_state, head, "sudo stat -c '%a %U' /opt/seedcore/ray.env")
    assert (code, out.strip()) == (0, "600 root")
    code, out = labctl.run_on(lab_state, head, "cat /opt/seedcore/ray.env")
    assert code != 0, "an unprivileged user can read the env file"
    code, env = labctl.run_on(lab_state, head, "sudo docker exec seedcore-ray-head env")
    assert "RAY_DISABLE_METRICS_SERVER=1" in env
    assert "DASHBOARD_METRIC_PORT=44227" in env
    assert "PYTHONASYNCIODEBUG" not in env


def test_ray_status_in_the_head_sees_every_node(converged, lab_state, head):
    code, out = labctl.run_on(lab_state, head, "sudo docker exec seedcore-ray-head ray status")
    assert code == 0, out
    assert out.count("node_") >= len(lab_state["hosts"]), out


def test_the_deploy_wrote_a_green_json_report(converged, lab_state):
    report = json.loads((labctl.REPO / "reports" / "verify.json").read_text())
    assert report["ok"] is True
    assert set(report["hosts"]) == {h["name"] for h in lab_state["hosts"]}


def test_rerun_with_nothing_changed_restarts_nothing(converged, lab_state, tmp_path):
    """...and reads each host in one bundled command: no operation reads a fact of its own."""
    before = {h["name"]: labctl.started_at(lab_state, h) for h in lab_state["hosts"]}
    timings = tmp_path / "timings.json"
    run = labctl.pyinfra("inventories/lab.py", "deploy/cluster.py", env={"SEEDCORE_TIMINGS": str(timings)})
    assert run.returncode == 0, run.output[-3000:]
    after = {h["name"]: labctl.started_at(lab_state, h) for h in lab_state["hosts"]}
    assert after == before
    assert json.loads(timings.read_text())["fact_misses"] == {}


# What `--dry` may still list on a converged cluster, and why each changes nothing there.
# The steps that follow another's change (apt's refresh, Docker's restarts, the
# Serve route wait) decide from facts as the steps they follow do, not with `_if`
# (which pyinfra cannot evaluate under --dry and lists as a conditional change),
# so none of them is here.
CONVERGED_DRY_ALLOWED = {
    # python.call checks reach the endpoints through the hosts; they change no host.
    "Verify the cluster | Check this node's endpoints and logs through its SSH connection",
    "Verify the cluster | Report the checks and the verdict",
    # Monitoring: Ray's dashboards copied to the control machine and Prometheus'
    # checks, both python.call run from the control machine.
    "Copy Ray's Grafana dashboards | Copy Ray's Grafana dashboards from the head to the control machine",
    "Verify monitoring | Check through the monitoring host that Prometheus answers, scrapes and has its "
    "rules",
}


def test_dry_run_on_the_converged_lab_changes_nothing(converged):
    """Every operation --dry lists, as a change or a conditional change, is one
    of the justified exceptions: no pull, no leftover removal, no port check,
    no file, no restart."""
    run = labctl.pyinfra("--dry", "inventories/lab.py", "deploy/cluster.py")
    assert run.returncode == 0, run.output[-3000:]
    assert "--> Detected changes:" in run.output, run.output[-3000:]
    changing = labctl.changed_operations(run.output, conditional=True)
    assert sorted(set(changing) - CONVERGED_DRY_ALLOWED) == [], run.output[-3000:]


def test_changing_one_workers_env_restarts_exactly_that_worker(converged, lab_state, workers):
    target = workers[0]
    inventory = labctl.write_inventory(
        "one_worker_env",
        f"""
        for name, data in ray_workers:
            if name == {target['name']!r}:
                data["ray_env"] = {{"SEEDCORE_E2E_MARK": "1"}}
        """,
    )
    before = {h["name"]: labctl.started_at(lab_state, h) for h in lab_state["hosts"]}
    try:
        run = labctl.pyinfra(inventory, "deploy/cluster.py")
        assert run.returncode == 0, run.output[-3000:]
        after = {h["name"]: labctl.started_at(lab_state, h) for h in lab_state["hosts"]}
        changed = sorted(name for name in before if before[name] != after[name])
        assert changed == [target["name"]]
        code, env = labctl.run_on(lab_state, target, "sudo docker exec seedcore-ray-worker env")
        assert "SEEDCORE_E2E_MARK=1" in env
    finally:
        restore = labctl.pyinfra("inventories/lab.py", "deploy/cluster.py")
        assert restore.returncode == 0, restore.output[-3000:]
