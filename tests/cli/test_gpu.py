"""A GPU host beside CPU hosts: `--dry` shows NVIDIA's toolkit and runtime for
the GPU host alone, and the files it would get ask for its GPUs.

The GPU host is bare except for its driver: nvidia-smi answers with two GPUs.
`--dry` prints operation names, not file contents, so the compose file is
read from the same inventory prepared in-process (tests/cli/inprocess.py)
and from seedcore.plan.plan_for with the host's facts.
"""

import json

import pytest
import yaml

from seedcore import render
from tests.cli import responses
from tests.cli.cli import WORKER_IPS, Deployment
from tests.cli.inprocess import plans, prepare
from tests.shell import installs

HEAD = "@fake/head-1"
CPU_WORKER = "@fake/worker-1"
GPU = "@fake/gpu-1"
CPU_HOSTS = {HEAD, CPU_WORKER}
GPU_IMAGE = "registry.example.com/seedcore/ray:2.20.0-gpu"

NVIDIA_STEPS = [
    "Fetch NVIDIA's container toolkit signing key and check its fingerprint",
    "Add NVIDIA's container toolkit repository, signed by its key",
    "Install the NVIDIA container toolkit",
    "Register the NVIDIA runtime with Docker",
]


def _mixed(directory, gpu_facts=None) -> Deployment:
    deployment = Deployment(directory)
    deployment.head()
    deployment.worker("worker-1", WORKER_IPS[0])
    facts = gpu_facts or responses.bare_debian12(NVIDIA_SMI=responses.gpus(2))
    deployment.gpu(deployment.worker("gpu-1", WORKER_IPS[1], facts=facts))
    deployment.write()
    return deployment


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    deployment = _mixed(tmp_path_factory.mktemp("mixed"))
    return deployment, deployment.dry()


@pytest.fixture(scope="module")
def prepared(mixed):
    deployment, _ = mixed
    return prepare(deployment.path)


def _service(compose_text: str) -> dict:
    services = yaml.safe_load(compose_text)["services"]
    assert len(services) == 1, services
    return next(iter(services.values()))


def test_nvidia_toolkit_and_runtime_on_the_gpu_host(mixed):
    _, run = mixed
    assert run.code == 0, run.describe()
    for step in NVIDIA_STEPS:
        assert run.changed(step) == {GPU}, f"{step}:\n{run.describe()}"
    # The toolkit is not installed yet: apt is refreshed, its signature checked.
    assert run.changed("Refresh apt, stopping if NVIDIA's container toolkit repository's") == {GPU}
    # No NVIDIA runtime in daemon.json yet: nvidia-ctk runs for certain, and Docker restarts
    # on its outcome (seedcore/changes.py): a conditional change.
    restart = run.row("Restart Docker because nvidia-ctk changed daemon.json")
    assert (restart.change, restart.conditional) == (frozenset(), {GPU}), run.describe()
    # Docker first, then NVIDIA's runtime for it.
    operations = run.operations()
    docker = operations.index(run.row("Enable and start Docker").operation)
    assert all(operations.index(run.row(step).operation) > docker for step in NVIDIA_STEPS)


def test_cpu_hosts_get_no_gpu_operation(mixed):
    _, run = mixed
    nvidia_rows = [row for row in run.rows if "NVIDIA" in row.operation or "nvidia" in row.operation]
    assert len(nvidia_rows) >= len(NVIDIA_STEPS), run.describe()
    for row in nvidia_rows:
        assert not (row.change | row.conditional) & CPU_HOSTS, f"{row}\n{run.describe()}"
    # Each CPU host still gets the whole CPU deploy.
    for fragment in ("Install Docker's packages from docker_install_source", "Write the node's compose file"):
        assert CPU_HOSTS <= run.changed(fragment), run.describe()
    pulling = set().union(*(row.change for row in run.rows_matching("Pull the Ray image |")))
    assert CPU_HOSTS <= pulling, run.describe()


def test_each_pull_row_lists_only_hosts_pulling_that_image(mixed):
    _, run = mixed
    pulls = {GPU: GPU_IMAGE, HEAD: "registry.example.com/seedcore/ray:2.20.0",
             CPU_WORKER: "registry.example.com/seedcore/ray:2.20.0"}
    for row in run.rows_matching("Pull the Ray image |"):
        for host in row.change | row.conditional:
            assert row.operation.endswith(f"Pull {pulls[host]}"), f"{host} under {row.operation!r}"


def test_gpu_host_compose_file_requests_its_gpus(prepared):
    files = prepared.uploads(GPU)
    service = _service(files["/opt/seedcore/ray-workers.yml"])
    assert service["deploy"]["resources"]["reservations"]["devices"] == [
        {"driver": "nvidia", "count": 2, "capabilities": ["gpu"]},
    ]
    assert "--num-gpus=2" in service["command"]
    assert service["image"] == GPU_IMAGE
    assert "runtime" not in service
    daemon = json.loads(files["/etc/docker/daemon.json"])
    assert daemon["runtimes"]["nvidia"]["path"] == "nvidia-container-runtime"


def test_gpu_host_toolkit_repository_and_runtime_commands(prepared):
    shell = "\n".join(prepared.shell(GPU))
    assert ("/usr/lib/apt/apt-helper download-file https://nvidia.github.io/libnvidia-container/gpgkey "
            '"$tmp/key"') in shell
    assert 'case "$found" in C95B321B61E88C1809C4F759DDCAE044F796ECB0) ;; ' in shell
    source = prepared.uploads(GPU)["/etc/apt/sources.list.d/nvidia-container-toolkit.sources"]
    assert source.splitlines() == [
        "Types: deb",
        "URIs: https://nvidia.github.io/libnvidia-container/stable/deb/amd64",
        "Suites: /",
        "Architectures: amd64",
        "Signed-By: /etc/apt/keyrings/nvidia-container-toolkit.gpg",
    ]
    assert installs(prepared.shell(GPU), "nvidia-container-toolkit")
    assert "nvidia-ctk runtime configure --runtime=docker" in shell
    assert f"docker pull {GPU_IMAGE}" in shell


@pytest.mark.parametrize("host, compose", [
    (HEAD, "/opt/seedcore/docker-compose.yml"),
    (CPU_WORKER, "/opt/seedcore/ray-workers.yml"),
])
def test_cpu_host_files_carry_no_gpu_settings(prepared, host, compose):
    files = prepared.uploads(host)
    service = _service(files[compose])
    assert "deploy" not in service and "runtime" not in service
    assert not any(arg.startswith("--num-gpus") for arg in service["command"])
    assert service["image"] == "registry.example.com/seedcore/ray:2.20.0"
    assert "runtimes" not in json.loads(files["/etc/docker/daemon.json"])
    shell = "\n".join(prepared.shell(host))
    assert "nvidia" not in shell.lower()


def test_plan_for_gpu_host_matches_the_written_compose_file(mixed, prepared):
    deployment, _ = mixed
    found = plans(deployment.path)
    gpu = found[GPU]
    assert (gpu.node.gpus, gpu.node.gpu_mode, gpu.node.image) == (2, "devices", GPU_IMAGE)
    assert found[HEAD].node.gpus == found[CPU_WORKER].node.gpus == 0
    # What plan_for decided is what the run writes.
    written = prepared.uploads(GPU)["/opt/seedcore/ray-workers.yml"]
    assert render.compose_file(gpu.node, gpu.config_hash) == written
    service = _service(written)
    assert service["labels"]["io.seedcore.config-hash"] == gpu.config_hash


def test_gpu_host_with_old_compose_v1_uses_the_nvidia_runtime(tmp_path):
    """Compose v1 before 1.28 cannot reserve devices: `runtime: nvidia` instead."""
    facts = responses.bare_debian12(
        NVIDIA_SMI=responses.gpus(2),
        DOCKER_ENGINE="running 20.10.24",
        COMPOSE_CLI="docker-compose",
        COMPOSE_VERSION="1.25.0",
    )
    deployment = _mixed(tmp_path, gpu_facts=facts)
    assert plans(deployment.path)[GPU].node.gpu_mode == "runtime"
    service = _service(prepare(deployment.path).uploads(GPU)["/opt/seedcore/ray-workers.yml"])
    assert service["runtime"] == "nvidia"
    assert service["environment"]["NVIDIA_VISIBLE_DEVICES"] == "all"
    assert "deploy" not in service
    assert "--num-gpus=2" in service["command"]
