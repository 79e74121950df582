"""What verify reads on a node's host, besides its endpoints: one command, once
the endpoints have answered, and the same checks in the same order as before."""

from dataclasses import replace

import pytest

from seedcore import checks, pki
from seedcore.tasks import verify
from tests.harness import FakeHost, FakeState, make_node

CONTAINER_LOGS = {"Address already in use": 0, "assert not dest.done()": 2}


def _cert(days: int) -> str:
    key, ca = pki.make_ca("test cluster CA")
    return pki.issue_node_cert(key, ca, pki.key_pem(pki.new_key()), "head-1", "10.0.0.10", days)


def _checked(monkeypatch, node, facts: dict) -> tuple[FakeHost, list[checks.Result], list[str]]:
    order = []
    host = FakeHost(name=node.name, facts=facts)
    original = host.get_fact

    def get_fact(cls, **kwargs):
        order.append(f"read {cls.__name__}")
        return original(cls, **kwargs)

    def endpoints(*args):
        order.append("endpoints")
        return [checks.Result(node.name, "metrics", True, "87 ray_ series")]

    host.get_fact = get_fact
    monkeypatch.setattr(verify, "node_checks", endpoints)
    state = FakeState()
    verify._check_host(state, host, node, expected_nodes=3, all_hosts=["head-1", "worker-1", "worker-2"])
    return host, verify.results_of(state)[node.name], order


def test_a_head_with_tls_and_the_gcs_store_is_read_in_one_command_after_its_endpoints(monkeypatch):
    tls = pki.TlsFiles(ca_cert="ca", cert="cert", key="key")
    node = replace(make_node(gcs_store="10.0.0.30:6379", gcs_store_password="pw"), tls=tls)
    path = f"{node.settings['tls_host_dir']}/node.crt"
    _, results, order = _checked(monkeypatch, node, {
        "LogSignatureCounts": CONTAINER_LOGS,
        "FileText": {f"path={path}": _cert(days=200)},
        "GcsStorageType": "StorageType::REDIS_PERSIST",
    })
    assert order == ["endpoints", "read FactBundle"]
    assert [(r.check, r.ok) for r in results] == [
        ("metrics", True), ("log:metrics_port_clash", True), ("log:serve_future_race", False),
        ("tls certificate", True), ("gcs storage type", True),
    ]
    assert results[2].detail == "2 x 'assert not dest.done()' in seedcore-ray-head logs"
    assert results[3].detail.startswith("200 days left")


def test_a_gpu_worker_reads_docker_s_runtimes_and_the_container_s_gpus_in_the_same_command(monkeypatch):
    node = replace(make_node(role="worker", name="worker-1", address="10.0.0.11"), gpus=2)
    host, results, order = _checked(monkeypatch, node, {
        "LogSignatureCounts": {},
        "DockerRuntimes": ["io.containerd.runc.v2", "runc"],
        "ContainerGpus": {"container=seedcore-ray-worker": ["GPU 0: A100", "GPU 1: A100"]},
    })
    assert order == ["endpoints", "read FactBundle"]
    assert [name for name, _ in host.fact_calls[0][1]["reads"]] == [
        "LogSignatureCounts", "DockerRuntimes", "ContainerGpus"]
    assert [(r.check, r.ok, r.detail) for r in results[-2:]] == [
        ("docker nvidia runtime", False, "Docker runtimes: io.containerd.runc.v2, runc"),
        ("nvidia-smi in container", True, "2 GPUs inside seedcore-ray-worker (expected 2)"),
    ]


@pytest.mark.parametrize("role", ["head", "worker"])
def test_a_node_without_tls_store_or_gpus_reads_only_its_logs(role):
    node = make_node(role=role, name=f"{role}-1", gcs_store="10.0.0.30:6379" if role == "worker" else "")
    assert [cls.__name__ for cls, _ in verify.host_reads(node)] == ["LogSignatureCounts"]
