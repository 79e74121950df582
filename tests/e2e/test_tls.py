"""Mutual TLS on the lab (tls_enabled is on by default): every Ray container runs
with RAY_USE_TLS=1, verify shows each node's certificate, a client without the
cluster's certificates cannot reach the GCS or attach a driver while one with
them can, a renewed worker certificate restarts that worker alone, and what TLS
costs small tasks on one node (figures under tls.* in reports/e2e/figures.json).
"""

import base64
import json
import shlex
from pathlib import Path

import pytest

from lab import control as labctl
from seedcore import pki

pytestmark = pytest.mark.e2e

TLS_DIR = "/etc/seedcore/tls"
SCRIPTS = Path(__file__).with_name("tls_scripts")
TLS_ENV = (f"-e RAY_USE_TLS=1 -e RAY_TLS_SERVER_CERT={TLS_DIR}/node.crt "
           f"-e RAY_TLS_SERVER_KEY={TLS_DIR}/node.key -e RAY_TLS_CA_CERT={TLS_DIR}/ca.crt")


def _piped(script: str) -> str:
    """`script` (a file in tls_scripts/) on the stdin of the command that follows."""
    text = base64.b64encode((SCRIPTS / script).read_bytes()).decode()
    return f"echo {text} | base64 -d | "


def _image(lab_state) -> str:
    return lab_state["ray_image"]


def _gcs(head) -> str:
    return f"{head['ip']}:6379"


def test_every_ray_container_runs_with_tls(converged, lab_state):
    for host in lab_state["hosts"]:
        container = "seedcore-ray-head" if host["role"] == "head" else "seedcore-ray-worker"
        code, env = labctl.run_on(lab_state, host, f"sudo docker exec {container} env")
        assert code == 0, env
        assert "RAY_USE_TLS=1" in env.splitlines(), f"{host['name']}: {env}"
        assert f"RAY_TLS_SERVER_KEY={TLS_DIR}/node.key" in env.splitlines()


def test_key_is_root_only_and_the_certificate_names_the_node(converged, lab_state):
    for host in lab_state["hosts"]:
        code, out = labctl.run_on(lab_state, host, f"sudo stat -c '%U %a %n' {TLS_DIR} {TLS_DIR}/node.key")
        expected = [f"root 700 {TLS_DIR}", f"root 600 {TLS_DIR}/node.key"]
        assert code == 0 and out.split("\n")[:2] == expected, out
        code, cert = labctl.run_on(lab_state, host, f"sudo cat {TLS_DIR}/node.crt")
        assert pki.renewal_reason(cert, (Path(labctl.REPO) / ".lab/tls/ca.crt").read_text(),
                                  (Path(labctl.REPO) / f".lab/tls/nodes/{host['name']}.key").read_text(),
                                  host["ip"], 30) is None


def test_verify_shows_each_nodes_certificate_green(converged, lab_state):
    report = json.loads((Path(labctl.REPO) / "reports" / "verify.json").read_text())
    text = json.dumps(report)
    for host in lab_state["hosts"]:
        assert host["name"] in text
    checks = [c for c in _all_checks(report) if c["check"] == "tls certificate"]
    assert len(checks) == len(lab_state["hosts"]) and all(c["ok"] for c in checks), checks
    assert all(c["ok"] for c in _all_checks(report)), [c for c in _all_checks(report) if not c["ok"]]
    assert "PRIVATE KEY" not in converged.output and "PRIVATE KEY" not in text


def _all_checks(report) -> list[dict]:
    found = []

    def walk(value):
        if isinstance(value, dict):
            if "check" in value and "ok" in value:
                found.append(value)
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
    walk(report)
    return found


def test_the_gcs_refuses_clients_without_a_cluster_certificate(converged, lab_state, head, workers):
    """Raw gRPC to the head's GCS from a throwaway container of the Ray image on a
    worker host: in plain text, and in TLS with only the CA (no client certificate),
    the GCS closes the connection; with the node's certificate it answers."""
    worker = workers[0]
    answers = {}
    for mode in ("plain", "ca-only", "mutual"):
        command = (_piped("grpc_probe.py") + f"sudo timeout 60 docker run -i --rm --network host "
                   f"-v {TLS_DIR}:{TLS_DIR}:ro {shlex.quote(_image(lab_state))} "
                   f"python - {_gcs(head)} {mode}")
        code, out = labctl.run_on(lab_state, worker, command, timeout=90)
        answers[mode] = out.strip().splitlines()[-1] if out.strip() else f"exit {code}"
    assert answers["plain"].startswith("REFUSED"), answers
    assert answers["ca-only"].startswith("REFUSED"), answers
    assert answers["mutual"].startswith("OK"), answers


def test_a_driver_attaches_only_with_the_certificates(converged, lab_state, head, workers):
    """`ray.init(address=<head>:6379)` inside the worker's container (its env carries
    TLS) attaches at once; the same with RAY_USE_TLS=0 never does (bounded at 20 s)."""
    worker = workers[0]
    run = _piped("driver.py") + "sudo docker exec -i {env} seedcore-ray-worker timeout {bound} python - "
    run += _gcs(head)
    code, out = labctl.run_on(lab_state, worker, run.format(env="", bound=60), timeout=90)
    assert code == 0 and "CONNECTED" in out, out
    code, out = labctl.run_on(lab_state, worker, run.format(env="-e RAY_USE_TLS=0", bound=20), timeout=60)
    assert code == 124 and "CONNECTED" not in out, (code, out)


def test_tls_cost_on_small_tasks(converged, lab_state, head):
    """One local Ray node in a throwaway container on the head host, bound to
    127.0.0.1 (in the certificate's SAN), with and without TLS: not asserted."""
    figures = {}
    for name, env in (("tls", f"-v {TLS_DIR}:{TLS_DIR}:ro {TLS_ENV}"), ("plain", "")):
        command = (_piped("small_tasks.py") + f"sudo timeout 150 docker run -i --rm --shm-size=512m {env} "
                   f"{shlex.quote(_image(lab_state))} python -")
        code, out = labctl.run_on(lab_state, head, command, timeout=180)
        assert code == 0, out
        figures[name] = json.loads(out.strip().splitlines()[-1])
    for key in ("sequential_task_ms", "batched_tasks_per_s"):
        labctl.record_figure(f"tls.{key}.tls", figures["tls"][key])
        labctl.record_figure(f"tls.{key}.plain", figures["plain"][key])
    assert figures["tls"]["tls"] == "1" and figures["plain"]["tls"] == "0"


def test_a_renewed_worker_certificate_restarts_that_worker_only(converged, lab_state, workers):
    """The worker's certificate is removed from the control machine's store (as a
    renewal would replace it): the next run issues a new one with the same key,
    writes it, and recreates that worker alone; verify is green."""
    worker = workers[-1]
    store = Path(labctl.REPO) / ".lab" / "tls" / "nodes"
    old = (store / f"{worker['name']}.crt").read_text()
    key = (store / f"{worker['name']}.key").read_text()
    (store / f"{worker['name']}.crt").unlink()
    before = {h["name"]: labctl.started_at(lab_state, h) for h in lab_state["hosts"]}
    run = labctl.pyinfra("inventories/lab.py", "deploy/cluster.py")
    assert run.returncode == 0, run.output[-3000:]
    after = {h["name"]: labctl.started_at(lab_state, h) for h in lab_state["hosts"]}
    assert sorted(name for name in before if before[name] != after[name]) == [worker["name"]]
    code, on_host = labctl.run_on(lab_state, worker, f"sudo cat {TLS_DIR}/node.crt")
    new = (store / f"{worker['name']}.crt").read_text()
    assert new != old and on_host.strip() == new.strip()
    assert pki.matches_key(new, key)
    assert "PRIVATE KEY" not in run.output
