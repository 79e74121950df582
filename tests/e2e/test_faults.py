"""Faults from outside, on the lab: a foreign process on a port, the registry
gone, a host unreachable, a run killed halfway, and a planted secret."""

import secrets
import signal
import subprocess
import time

import pytest
import requests

from lab import hosts as lab_hosts
from lab.config import REGISTRY_NAME
from tests.e2e import labctl

pytestmark = pytest.mark.e2e


def starts(lab_state) -> dict:
    return {h["name"]: labctl.started_at(lab_state, h) for h in lab_state["hosts"]}


def serving(head) -> bool:
    try:
        return requests.get(f"http://{head['ip']}:8000/health", timeout=10).status_code == 200
    except requests.RequestException:
        return False


def converge(lab_state):
    run = labctl.pyinfra("inventories/lab.py", "deploy/cluster.py")
    assert run.returncode == 0, run.output[-3000:]


def test_port_held_by_a_foreign_process_stops_the_run_naming_it(converged, lab_state, head, workers):
    worker = workers[0]
    code, out = labctl.run_on(lab_state, worker, "sudo docker stop seedcore-ray-worker")
    assert code == 0, out
    lab_hosts.exec(worker["name"], "setsid nohup python3 -m http.server 8080 >/dev/null 2>&1 &")
    time.sleep(1)
    try:
        before = starts(lab_state)
        run = labctl.pyinfra("inventories/lab.py", "deploy/cluster.py")
        assert run.returncode != 0
        assert f"host {worker['name']}: port 8080 (ray_metrics_export_port) is held by python3" in run.output
        assert "nothing was changed on any host" in run.output
        assert "Starting operation" not in run.output
        assert starts(lab_state) == before
        assert serving(head)
    finally:
        lab_hosts.exec(worker["name"], "pkill -f 'http.server 8080' || true")
    converge(lab_state)


def test_registry_down_stops_nothing_and_names_the_image(converged, lab_state, head):
    registry = lab_state["registry"]["address"]
    image = f"{registry}/seedcore/ray:2.20.0-not-pulled-yet"
    inventory = labctl.write_inventory(
        "new_image_registry_down",
        f"""
        for _name, data in ray_head + ray_workers:
            data["ray_image"] = {image!r}
        """,
    )
    before = starts(lab_state)
    subprocess.run(["docker", "stop", REGISTRY_NAME], check=True, capture_output=True)
    try:
        run = labctl.pyinfra(inventory, "deploy/cluster.py")
        assert run.returncode != 0
        assert f"Pull {image}" in run.output
        assert starts(lab_state) == before, "a container was restarted although its pull failed"
        assert serving(head)
    finally:
        subprocess.run(["docker", "start", REGISTRY_NAME], check=True, capture_output=True)


def test_unreachable_host_is_reported_and_the_others_converge(converged, lab_state, workers):
    lost = workers[-1]
    lab_hosts.exec(lost["name"], "systemctl stop ssh.socket ssh.service")
    try:
        run = labctl.pyinfra("inventories/lab.py", "deploy/cluster.py")
        assert run.returncode != 0
        assert lost["name"] in run.output
        report = (labctl.REPO / "reports" / "verify.json").read_text()
        assert f'"{lost["name"]}"' in report
        for other in lab_state["hosts"]:
            if other["name"] != lost["name"]:
                assert requests.get(f"http://{other['ip']}:8080/metrics", timeout=10).status_code == 200
    finally:
        lab_hosts.exec(lost["name"], "systemctl start ssh.service")
    converge(lab_state)


def test_run_killed_halfway_then_rerun_converges(converged, lab_state, head):
    inventory = labctl.write_inventory(
        "killed_halfway",
        """
        for _name, data in ray_head + ray_workers:
            data["ray_env"] = {"SEEDCORE_KILLED_RUN": "1"}
        """,
    )
    process = subprocess.Popen(
        [labctl.PYINFRA, "-y", inventory, "deploy/cluster.py"], cwd=labctl.REPO,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    deadline = time.monotonic() + 300
    for line in process.stdout:
        if "Start the Ray head" in line or time.monotonic() > deadline:
            break
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
    run = labctl.pyinfra(inventory, "deploy/cluster.py")
    assert run.returncode == 0, run.output[-3000:]
    assert serving(head)
    converge(lab_state)


def test_a_planted_secret_is_only_where_it_belongs(converged, lab_state, head):
    token = "seedcore-e2e-" + secrets.token_hex(12)
    inventory = labctl.write_inventory(
        "planted_secret",
        """
        for _name, data in ray_head + ray_workers:
            data["ray_secret_env"] = {"SEEDCORE_API_TOKEN": "SEEDCORE_E2E_TOKEN"}
        """,
    )
    run = labctl.pyinfra(inventory, "deploy/cluster.py", env={"SEEDCORE_E2E_TOKEN": token})
    try:
        assert run.returncode == 0, run.output[-3000:]
        assert token not in run.output
        assert token not in (labctl.REPO / "reports" / "verify.json").read_text()
        for host in lab_state["hosts"]:
            _, processes = labctl.run_on(lab_state, host, "ps auxww")
            assert token not in processes, host["name"]
            _, readable = labctl.run_on(lab_state, host, f"grep -rl {token} /opt /etc /tmp 2>/dev/null")
            assert readable.strip() == "", f"{host['name']}: readable by a non-root user: {readable}"
            _, as_root = labctl.run_on(lab_state, host, f"sudo grep -rl {token} /opt/seedcore")
            assert as_root.split() == ["/opt/seedcore/ray.env"], host["name"]
        _, env = labctl.run_on(lab_state, head, "sudo docker exec seedcore-ray-head env")
        assert f"SEEDCORE_API_TOKEN={token}" in env
    finally:
        converge(lab_state)
