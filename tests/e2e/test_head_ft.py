"""Head fault tolerance on the lab: a client calls /health through a worker
every 0.2 s while (a) a release restarts the head and (b) the head host is
destroyed and rebuilt; first without the GCS store (the contrast), then with
it. Figures go to reports/e2e/figures.json under head_ft / no_head_ft.

The lab is the shared one (conftest: a Debian 12 head, workers of Debian 13
and 12). With the store, its third host (a Debian 12 worker before) is the
store: its Ray worker is removed by hand first, as an operator frees a host
for it. The module leaves the lab converged as conftest made it.
"""

import base64
import json
import ssl
import time

import pytest
import requests

from lab import control as labctl
from lab import headft
from seedcore.checks import redis_ask
from seedcore.tls_session import client_context
from seedcore.tls_store import node_paths

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


def tls_to_store(head: dict, certificate: bool = True) -> ssl.SSLContext:
    """A client context trusting the lab's CA, showing the head's certificate (verify's) or none."""
    tls_dir = labctl.REPO / ".lab" / "tls"
    cert, key = node_paths(str(tls_dir), head["name"])
    ca = (tls_dir / "ca.crt").read_text()
    return client_context(ca, str(cert), str(key)) if certificate else client_context(ca)


def refusal(reach, address: str, tls: ssl.SSLContext | None) -> str:
    """What a client that the store must refuse gets for AUTH + PING (never a PONG)."""
    try:
        reply = redis_ask(reach, address, headft.PASSWORD, "PING", tls=tls)
    except (OSError, ValueError) as error:
        return f"{type(error).__name__}: {error}"
    return f"answered {reply!r}"


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
    # tls_enabled is on (the default): verify spoke TLS to the store, with the head's certificate.
    assert "(TLS) answered '+PONG'" in checks["gcs store"]["detail"], checks["gcs store"]
    # What verify saw, seen again here: Redis holds the GCS tables under the namespace.
    # From the head: the store's firewall admits the head(s) only.
    address = f"{store['ip']}:6379"
    with labctl.reach_from(lab_state, head) as reach:
        entries = redis_ask(reach, address, headft.PASSWORD, "HLEN", "seedcore", tls=tls_to_store(head))
        # The store speaks TLS only, and only to a client with a certificate of the cluster's CA,
        # even with the right password.
        plain = refusal(reach, address, None)
        anonymous = refusal(reach, address, tls_to_store(head, certificate=False))
    assert entries.startswith(":") and int(entries[1:].split()[0]) > 0, entries
    print(f"\nplain client: {plain}\nTLS client without a certificate: {anonymous}")
    assert "PONG" not in plain and not plain.startswith("answered"), plain
    assert "PONG" not in anonymous and not anonymous.startswith("answered"), anonymous
    # The head's GCS and `ray start` reach it by rediss:// with the head's own TLS files.
    tls_dir = "/etc/seedcore/tls"
    code, out = labctl.run_on(lab_state, head, "sudo docker exec seedcore-ray-head printenv "
                              "RAY_REDIS_ADDRESS RAY_REDIS_CA_CERT RAY_REDIS_CLIENT_CERT "
                              "RAY_REDIS_CLIENT_KEY")
    assert out.split() == [f"rediss://{address}", f"{tls_dir}/ca.crt", f"{tls_dir}/node.crt",
                           f"{tls_dir}/node.key"], out
    # Redis listens on the store's private address only (its one port, TLS); its config and
    # TLS files are root and redis only.
    code, out = labctl.run_on(
        lab_state, store,
        f"sudo ss -Hltn | awk '{{print $4}}'; sudo stat -c '%n %U:%G %a' /etc/redis/redis.conf {tls_dir} "
        f"{tls_dir}/ca.crt {tls_dir}/node.crt {tls_dir}/node.key")
    lines = out.splitlines()
    assert [line for line in lines if line.endswith(":6379")] == [address], out
    assert lines[-5:] == ["/etc/redis/redis.conf root:redis 640", f"{tls_dir} root:redis 750",
                          *[f"{tls_dir}/{name} root:redis 640"
                            for name in ("ca.crt", "node.crt", "node.key")]], out
    # Every node answers Serve itself.
    for node in [head, *roles["workers"]]:
        assert requests.get(f"http://{node['ip']}:8000/-/healthz", timeout=10).text == "success"
        assert requests.get(f"http://{node['ip']}:8000/health", timeout=10).json()["status"] == "ok"


def _store_shows(lab_state, store: dict, cert: str, key: str) -> None:
    """Put this certificate and key in the store's TLS files and restart Redis."""
    tls_dir = "/etc/seedcore/tls"
    steps = [f"printf %s {base64.b64encode(text.encode()).decode()} | base64 -d | sudo tee {tls_dir}/{name} "
             f">/dev/null && sudo chown root:redis {tls_dir}/{name} && sudo chmod 640 {tls_dir}/{name}"
             for name, text in (("node.crt", cert), ("node.key", key))]
    code, out = labctl.run_on(lab_state, store, " && ".join([*steps, "sudo systemctl restart redis-server"]))
    assert code == 0, out


def _head_back(lab_state, head: dict, started_before: str, timeout_s: int = 240) -> float:
    """Seconds until the head container started again (a Redis restart ends its GCS) and answers."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if labctl.started_at(lab_state, head).get("seedcore-ray-head", started_before) != started_before:
            try:
                if requests.get(f"http://{head['ip']}:8265/api/gcs_healthz", timeout=5).text == "success":
                    return round(time.monotonic() - started, 1)
            except requests.RequestException:
                pass
        time.sleep(2)
    raise AssertionError(f"the head did not come back within {timeout_s}s")


def test_the_heads_redis_client_takes_a_store_certificate_for_another_address(restore_lab, lab_state, roles):
    """Ray 2.20's limit, shown (README "TLS to the store"): a store that shows a certificate of
    the cluster's CA issued for another address (a worker's) is still accepted by the head's GCS
    and `ray start`; verify's own check refuses it. The store's own pair is put back after."""
    head, store, worker = roles["head"], roles["store"], roles["workers"][0]
    tls_dir = labctl.REPO / ".lab" / "tls"
    own = [path.read_text() for path in node_paths(str(tls_dir), store["name"])]
    other = [path.read_text() for path in node_paths(str(tls_dir), worker["name"])]
    address = f"{store['ip']}:6379"
    try:
        before = labctl.started_at(lab_state, head)["seedcore-ray-head"]
        _store_shows(lab_state, store, *other)
        back_s = _head_back(lab_state, head, before)
        print(f"\nthe head came back in {back_s}s against a store showing {worker['name']}'s certificate")
        with labctl.reach_from(lab_state, head) as reach:
            ours = refusal(reach, address, tls_to_store(head))
            unchecked = tls_to_store(head)
            unchecked.check_hostname = False
            clients = redis_ask(reach, address, headft.PASSWORD, "CLIENT", "LIST", tls=unchecked)
        # The head's GCS is connected (besides the one CLIENT LIST connection).
        gcs = [line for line in clients.splitlines() if f"addr={head['ip']}:" in line]
        assert len(gcs) >= 2, clients
        assert "IP address mismatch" in ours, ours
    finally:
        before = labctl.started_at(lab_state, head)["seedcore-ray-head"]
        _store_shows(lab_state, store, *own)
        _head_back(lab_state, head, before)


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
