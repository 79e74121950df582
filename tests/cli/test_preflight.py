"""Preflight from the hosts' facts: a host that cannot take the cluster stops the
run before any change, with the host and the cause named.

Each host is a bare Debian 12 server with one thing wrong, scripted in what
its commands answer (tests/cli/responses.py).
"""

import re

import pytest

from tests.cli import responses
from tests.cli.cli import WORKER_IPS, assert_refused, problem_line


@pytest.mark.parametrize("role, port, process, pid, key", [
    ("worker", 8080, "nginx", 4242, "ray_metrics_export_port"),
    ("head", 6379, "redis-server", 901, "ray_gcs_port"),
])
def test_port_held_by_a_foreign_process(deployment, role, port, process, pid, key):
    held = responses.bare_debian12(LISTENING=responses.listening(responses.SSHD, (port, process, pid, "")))
    head = deployment.head(**({"facts": held} if role == "head" else {}))
    worker = deployment.worker(**({"facts": held} if role == "worker" else {}))
    lines = assert_refused(deployment.dry(), deployment.path)
    host = head if role == "head" else worker
    line = problem_line(lines, deployment.path, f"host {host}: port {port} ({key})")
    assert f"held by {process} (pid {pid})" in line
    assert f"stop it, or move {key} to a free port" in line
    # sshd on 22 is no business of the cluster's, and the other host is fine.
    assert len(lines) == 1, lines


def test_docker_installed_but_not_answering(deployment):
    deployment.head()
    worker = deployment.worker(facts=responses.bare_debian12(DOCKER_ENGINE="down"))
    lines = assert_refused(deployment.dry(), deployment.path)
    line = problem_line(lines, deployment.path, f"host {worker}: Docker is installed but not answering")
    assert "systemctl status docker" in line
    assert len(lines) == 1, lines


def test_too_little_disk_for_the_image(deployment):
    head = deployment.head(facts=responses.bare_debian12(DISK="1200"))
    deployment.worker()
    lines = assert_refused(deployment.dry(), deployment.path)
    line = problem_line(lines, deployment.path, f"host {head}: only 1200 MiB free under /var/lib/docker")
    assert "8192 MiB needed" in line
    assert "free some space or lower docker_min_free_mb" in line


def test_lowered_disk_requirement_is_honoured(deployment):
    deployment.head(facts=responses.bare_debian12(DISK="1200"), docker_min_free_mb=1024)
    deployment.worker()
    run = deployment.dry()
    assert run.code == 0, run.describe()
    assert "MiB free" not in run.output


@pytest.mark.parametrize("answer, cause", [
    (responses.NO_DRIVER, "nvidia-smi not found: no NVIDIA driver installed"),
    (responses.DRIVER_MISMATCH, "Failed to initialize NVML: Driver/library version mismatch"),
])
def test_gpu_host_without_a_working_driver(deployment, answer, cause):
    deployment.head()
    gpu = deployment.gpu(deployment.worker("gpu-1", facts=responses.bare_debian12(NVIDIA_SMI=answer)))
    lines = assert_refused(deployment.dry(), deployment.path)
    line = problem_line(
        lines, deployment.path, f"host {gpu} is in group gpu but has no working NVIDIA driver",
    )
    assert cause in line
    assert "install the driver (nvidia-smi must answer) or take the host out of the gpu group" in line


def test_gpu_count_pinned_above_what_nvidia_smi_reports(deployment):
    deployment.head()
    gpu = deployment.gpu(deployment.worker(
        "gpu-1", facts=responses.bare_debian12(NVIDIA_SMI=responses.gpus(1)), gpu_count=8,
    ))
    lines = assert_refused(deployment.dry(), deployment.path)
    line = problem_line(lines, deployment.path, f"host {gpu}: gpu_count is 8 but nvidia-smi reports 1 GPUs")
    assert "fix the hardware or the pin" in line


def test_problems_on_several_hosts_reported_together(deployment):
    nginx = responses.listening(responses.SSHD, (8000, "nginx", 4242, ""))
    head = deployment.head(facts=responses.bare_debian12(LISTENING=nginx))
    worker = deployment.worker(facts=responses.bare_debian12(DOCKER_ENGINE="down"))
    deployment.worker("worker-2", WORKER_IPS[1], facts=responses.bare_debian12(DISK="900"))
    run = deployment.dry()
    lines = assert_refused(run, deployment.path)
    assert "3 problems found before any change" in run.output
    problem_line(lines, deployment.path, f"host {head}: port 8000 (serve_http_port)")
    problem_line(lines, deployment.path, f"host {worker}: Docker is installed but not answering")
    problem_line(lines, deployment.path, "host @fake/worker-2: only 900 MiB free")


def test_apply_refuses_before_any_operation(deployment):
    """Without --dry, a preflight problem still stops everything before the first operation."""
    deployment.head()
    worker = deployment.worker(facts=responses.bare_debian12(DOCKER_ENGINE="down"))
    run = deployment.run("-y")
    lines = assert_refused(run, deployment.path)
    problem_line(lines, deployment.path, f"host {worker}: Docker is installed but not answering")
    assert "--> Beginning operation run" not in run.output


ROCKY_9_RELEASE = [
    "/etc/os-release",
    'NAME="Rocky Linux"',
    'VERSION_ID="9.3"',
    'ID="rocky"',
    'ID_LIKE="rhel centos fedora"',
    "---",
]


ALPINE_RELEASE = [
    "/etc/os-release",
    'NAME="Alpine Linux"',
    "ID=alpine",
    "VERSION_ID=3.20.1",
    "---",
]

ROCKY_LINE = (
    "runs rocky 9.3 (RPM family): planned but not supported yet; --dry shows its plan, a run "
    "without --dry changes no host while it is in the inventory"
)
ALPINE_LINE = "alpine 3.20.1 is not served: the deploy serves the Debian family"


@pytest.mark.parametrize("source", ["docker", "distro"])
def test_a_host_of_a_family_not_supported_yet_is_refused_before_any_change(deployment, source):
    deployment.head(docker_install_source=source)
    worker = deployment.worker(facts=responses.bare_debian12(DISTRIBUTION=ROCKY_9_RELEASE),
                               docker_install_source=source)
    lines = assert_refused(deployment.run("-y"), deployment.path)
    assert lines == [f"{deployment.path}: host {worker} {ROCKY_LINE}"]


def test_a_distribution_no_family_serves_is_a_preflight_problem_even_under_dry(deployment):
    deployment.head(facts=responses.bare_debian12(DISK="900"))
    worker = deployment.worker(facts=responses.bare_debian12(DISTRIBUTION=ALPINE_RELEASE))
    run = deployment.dry()
    lines = assert_refused(run, deployment.path)
    assert "Traceback" not in run.output
    problem_line(lines, deployment.path, f"host {worker}: {ALPINE_LINE}")
    problem_line(lines, deployment.path, "host @fake/head-1: only 900 MiB free")


def test_a_gpu_and_distribution_problem_do_not_hide_the_hosts_other_problems(deployment):
    nginx = responses.listening(responses.SSHD, (8080, "nginx", 4242, ""))
    deployment.head()
    gpu = deployment.gpu(deployment.worker("gpu-1", facts=responses.bare_debian12(
        NVIDIA_SMI=responses.NO_DRIVER, DISTRIBUTION=ALPINE_RELEASE, LISTENING=nginx, DISK="900",
    )))
    lines = assert_refused(deployment.dry(), deployment.path)
    problem_line(lines, deployment.path, f"host {gpu} is in group gpu but has no working NVIDIA driver")
    problem_line(lines, deployment.path, f"host {gpu}: {ALPINE_LINE}")
    problem_line(lines, deployment.path, f"host {gpu}: port 8080 (ray_metrics_export_port)")
    problem_line(lines, deployment.path, f"host {gpu}: only 900 MiB free")
    assert len(lines) == 4, lines


def test_an_active_ufw_stops_the_run_before_any_change(deployment):
    deployment.head()
    worker = deployment.worker(facts=responses.bare_debian12(ACTIVE_FIREWALLS="ufw"))
    lines = assert_refused(deployment.dry(), deployment.path)
    line = problem_line(lines, deployment.path, f"host {worker}: ufw is active")
    assert "firewall_manage=False" in line
    assert len(lines) == 1, lines


def test_an_active_ufw_is_left_alone_with_firewall_manage_off(deployment):
    deployment.head(firewall_manage=False)
    deployment.worker(facts=responses.bare_debian12(ACTIVE_FIREWALLS="ufw"), firewall_manage=False)
    run = deployment.dry()
    assert run.code == 0, run.describe()
    assert "Install the host firewall" not in run.output


def test_a_bare_host_gets_its_firewall_before_docker(deployment):
    deployment.head()
    deployment.worker()
    run = deployment.dry()
    assert run.code == 0, run.describe()
    for step in ("Install nftables from the distribution's packages", "Write the firewall rules (root only)",
                 "Enable and start the firewall (loads its rules)"):
        assert step in run.output, step
    assert run.output.index("Write the firewall rules") < run.output.index("Install Docker's packages")


def test_a_sudo_that_asks_for_a_password_is_one_line_per_host_before_any_read(deployment):
    """Without a password given, a host whose sudo asks is named once, with both ways out,
    and nothing is read through sudo (pyinfra would prompt, or fail without a TTY)."""
    deployment.head()
    worker = deployment.worker(facts=responses.bare_debian12(SUDO_ACCESS="password"))
    run = deployment.dry()
    lines = assert_refused(run, deployment.path)
    line = problem_line(lines, deployment.path, f"host {worker}: sudo asks")
    assert "passwordless sudo" in line and "--same-sudo-password" in line and "_sudo_password" in line
    assert len(lines) == 1
    assert "Traceback" not in run.output and "sudo password:" not in run.output


def test_a_sudo_password_given_in_data_lets_the_host_through(deployment):
    deployment.head()
    deployment.worker(facts=responses.bare_debian12(SUDO_ACCESS="password"), _sudo_password="s3cret pass")
    run = deployment.dry()
    assert run.code == 0, run.describe()
    assert "s3cret" not in run.output


def test_a_host_without_sudo_is_named(deployment):
    head = deployment.head(facts=responses.bare_debian12(SUDO_ACCESS="no-sudo"))
    deployment.worker()
    lines = assert_refused(deployment.dry(), deployment.path)
    problem_line(lines, deployment.path, f"host {head}: ", "has no sudo: install sudo or connect as root")


# What the Docker CLI says when the deploy's user may not use Docker's socket.
DOCKER_DENIED = ("permission denied while trying to connect to the Docker daemon socket at "
                 "unix:///var/run/docker.sock: Get \"http://%2Fvar%2Frun%2Fdocker.sock/v1.24/version\": "
                 "dial unix /var/run/docker.sock: connect: permission denied")


@pytest.mark.parametrize("yes", [False, True])
def test_docker_refusing_the_user_is_a_failed_fact_not_docker_down(deployment, yes):
    """A Docker permission error is not "Docker down" nor "no containers": the host's
    DockerEngine read fails (as the fact's command does when Docker refuses, with
    Docker's words on stderr), the host and the fact are named, and no host changes."""
    deployment.head()
    # Answered only when the fact is read on its own (a bundle starts with its temp directory).
    denied = {re.compile(r"^if ! command -v docker >/dev/null 2>&1; then echo absent"):
              {"success": False, "stderr": DOCKER_DENIED}}
    worker = deployment.worker(facts={**denied, **responses.bare_debian12(DOCKER_ENGINE="running 26.1.5")})
    run = deployment.run("-y") if yes else deployment.dry()
    lines = assert_refused(run, deployment.path)
    line = problem_line(lines, deployment.path, f"host {worker}:")
    assert "DockerEngine" in line or "could not be read" in line
    assert "Docker is installed but not answering" not in run.output
    named = [text for text in run.output.splitlines()
             if worker in text and "could not load fact:" in text and "DockerEngine" in text]
    assert named, run.describe()
    assert any("permission denied while trying to connect to the Docker daemon socket" in text
               for text in run.output.splitlines() if worker in text), run.describe()
    assert "Traceback" not in run.output
