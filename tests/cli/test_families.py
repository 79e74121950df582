"""The Debian family on paper: hosts the repository cannot serve are refused
in preflight (read from its Release file), Ubuntu 22.04 and 24.04 get the
same signed path as Debian, and a repository key or signature that does not
verify stops that host before any Docker package step."""

import re

import pytest

from seedcore import signed_apt
from tests.cli import responses
from tests.cli.cli import WORKER_IPS, Deployment, assert_refused
from tests.cli.inprocess import prepare
from tests.shell import installs

MIRROR = "http://mirror.lab:8080"
DEBIAN_13_RELEASE = [
    line.replace("12 (bookworm)", "13 (trixie)").replace('"12"', '"13"').replace("bookworm", "trixie")
    for line in responses.DEBIAN_12_RELEASE
]


def ubuntu_release(version: str, codename: str) -> list[str]:
    return [
        "/etc/os-release",
        f'PRETTY_NAME="Ubuntu {version} LTS"',
        'NAME="Ubuntu"',
        f'VERSION_ID="{version}"',
        f"VERSION_CODENAME={codename}",
        "ID=ubuntu",
        "ID_LIKE=debian",
        f"UBUNTU_CODENAME={codename}",
        "---",
    ]


def test_a_codename_the_mirror_does_not_carry(deployment):
    url = f"{MIRROR}/debian/dists/trixie/Release"
    deployment.head(docker_apt_url=MIRROR)
    worker = deployment.worker(docker_apt_url=MIRROR, facts=responses.bare_debian12(
        DISTRIBUTION=DEBIAN_13_RELEASE,
        RELEASE=f"{responses.FETCH_FAILED} Failed to fetch {url}  404  File not found [IP: 10.0.0.2 8080]",
    ))
    lines = assert_refused(deployment.dry(), deployment.path)
    assert lines == [
        f"{deployment.path}: host {worker}: docker_apt_url {MIRROR}/debian does not carry debian "
        f"trixie: {url} could not be fetched (Failed to fetch {url}  404  File not found "
        "[IP: 10.0.0.2 8080]); point docker_apt_url at a mirror that carries it, or use "
        "docker_install_source='distro'"
    ]


def test_an_architecture_the_mirror_lacks(deployment):
    amd64_only = [re.sub("^Architectures: .*", "Architectures: amd64", line)
                  for line in responses.DOCKER_BOOKWORM_RELEASE]
    head = deployment.head(facts=responses.bare_debian12(ARCH="arm64", RELEASE=amd64_only))
    deployment.worker(facts=responses.bare_debian12(RELEASE=amd64_only))
    lines = assert_refused(deployment.dry(), deployment.path)
    assert lines == [
        f"{deployment.path}: host {head}: docker_apt_url https://download.docker.com/linux/debian "
        "carries bookworm for amd64, not for this host's arm64: add arm64 to the mirror, or use "
        "docker_install_source='distro'"
    ]


@pytest.mark.parametrize("version, codename", [("22.04", "jammy"), ("24.04", "noble")])
def test_ubuntu_gets_dockers_signed_repository_for_its_codename(tmp_path, version, codename):
    deployment = Deployment(tmp_path)
    facts = responses.bare_debian12(DISTRIBUTION=ubuntu_release(version, codename), RELEASE=[
        line.replace("bookworm", codename) for line in responses.DOCKER_BOOKWORM_RELEASE
    ])
    head = deployment.head(facts=facts)
    run = deployment.dry()
    assert run.code == 0, run.describe()
    for step in ("Fetch Docker's apt signing key and check its fingerprint",
                 "Add Docker's apt repository, signed by its key",
                 "Install Docker's packages from docker_install_source"):
        assert run.changed(step) == {head}, step
    source = prepare(deployment.path).uploads(head)["/etc/apt/sources.list.d/docker.sources"]
    assert source.splitlines() == [
        "Types: deb",
        "URIs: https://download.docker.com/linux/ubuntu",
        f"Suites: {codename}",
        "Components: stable",
        "Architectures: amd64",
        "Signed-By: /etc/apt/keyrings/docker.gpg",
    ]


def test_a_lab_mirror_pins_debians_own_docker_io(tmp_path):
    deployment = Deployment(tmp_path)
    head = deployment.head(
        docker_apt_url=MIRROR, docker_apt_key_fingerprint="843A04EB8BB3628CEEDDDB7A4B7DE6A802312008",
        docker_official_packages=["docker.io", "docker-compose"], docker_pinned_packages=["docker.io"],
        docker_version="20.10.24+dfsg1-1+deb12u1",
    )
    commands = prepare(deployment.write()).shell(head)
    shell = "\n".join(commands)
    assert installs(commands, "docker.io=20.10.24+dfsg1-1+deb12u1", "docker-compose",
                    options=("--allow-downgrades",))
    assert f"download-file {MIRROR}/debian/gpg" in shell


def _operation_hosts(output: str) -> dict[str, set[str]]:
    """Operation name -> hosts that ran it, from a real (not --dry) run's output."""
    ran: dict[str, set[str]] = {}
    current = None
    for line in output.splitlines():
        started = re.match(r"--> Starting operation: (.*?)\s*$", line)
        if started:
            current = started.group(1)
            ran.setdefault(current, set())
        elif current and (host := re.match(r"\s+\[(@fake/[\w-]+)\] ", line)):
            ran[current].add(host.group(1))
    return ran


INSTALL = "Install and configure Docker | Install Docker's packages from docker_install_source"


@pytest.mark.parametrize("failing, line", [
    ("out=$(apt-get update", signed_apt.signature_failure_line(
        "@fake/worker-1", "https://download.docker.com/linux/debian", "/etc/apt/keyrings/docker.gpg",
        "9DC858229FC7DD38854AE2D88D81803C0EBFCD88", "docker_apt_key_fingerprint", "docker_apt_url")),
    ("download-file https://download.docker.com/linux/debian/gpg",
     "host @fake/worker-1: the key at https://download.docker.com/linux/debian/gpg is not "
     "docker_apt_key_fingerprint=9DC858229FC7DD38854AE2D88D81803C0EBFCD88 (it has: "
     "843A04EB8BB3628CEEDDDB7A4B7DE6A802312008): nothing was stored and nothing installed from "
     "it; set docker_apt_key_fingerprint to the mirror's real key, or fix docker_apt_url"),
])
def test_a_key_or_signature_that_does_not_verify_stops_that_host_before_docker(tmp_path, failing, line):
    deployment = Deployment(tmp_path)
    deployment.head()
    worker = deployment.worker("worker-1", WORKER_IPS[0], facts={
        failing: {"success": False, "stderr": [line]}, **responses.bare_debian12(),
    })
    run = deployment.run("-y")
    assert run.code != 0, run.describe()
    assert f"    [{worker}] {line}" in run.output.splitlines(), run.describe()
    ran = _operation_hosts(run.output)
    # The head went on; the worker stopped there: no Docker package, file or service step.
    for step in (INSTALL, "Install and configure Docker | Write /etc/docker/daemon.json",
                 "Install and configure Docker | Enable and start Docker"):
        assert ran[step] == {"@fake/head-1"}, f"{step}\n{run.describe()}"


# -- the RPM family: planned under --dry, refused otherwise -------------------

ROCKY_9_RELEASE = [
    "/etc/os-release",
    'NAME="Rocky Linux"',
    'VERSION="9.4 (Blue Onyx)"',
    "ID=rocky",
    'ID_LIKE="rhel centos fedora"',
    'VERSION_ID="9.4"',
    'PRETTY_NAME="Rocky Linux 9.4 (Blue Onyx)"',
    "---",
]
RPM_PACKAGE_STEPS = ("Install the base tools the deploy uses",
                     "Add Docker's dnf repository",
                     "Install Docker's packages from docker_install_source",
                     "Install nftables from the distribution's packages")


def _rocky_worker(deployment) -> str:
    return deployment.worker(facts=responses.bare_debian12(DISTRIBUTION=ROCKY_9_RELEASE))


def test_an_rpm_host_plans_its_package_steps_with_dnf_under_dry(tmp_path, monkeypatch):
    deployment = Deployment(tmp_path)
    head = deployment.head()
    worker = _rocky_worker(deployment)
    run = deployment.dry()
    assert run.code == 0, run.describe()
    assert (f"host {worker} runs rocky 9.4 (RPM family): planned but not supported yet"
            in run.output), run.describe()
    for step in RPM_PACKAGE_STEPS:
        planned = {host for row in run.rows_matching(step) for host in row.change | row.conditional}
        assert worker in planned, f"{step}\n{run.describe()}"
    # The same steps, as the commands they send: dnf on the RPM host, apt on the Debian one.
    monkeypatch.setattr("sys.argv", ["pyinfra", str(deployment.path), "deploy/cluster.py", "--dry"])
    prepared = prepare(deployment.path)
    rocky, debian = prepared.shell(worker), prepared.shell(head)
    assert any(line.startswith("dnf install -y") and "docker-ce" in line for line in rocky), rocky
    assert not any("apt-get" in line or "dpkg" in line for line in rocky), rocky
    assert "/etc/yum.repos.d/docker-ce-stable.repo" in prepared.uploads(worker), prepared.uploads(worker)
    assert any("apt-get" in line and "docker-ce" in line for line in debian)


def test_a_run_without_dry_is_refused_for_the_rpm_host_only(tmp_path):
    deployment = Deployment(tmp_path)
    deployment.head()
    worker = _rocky_worker(deployment)
    lines = assert_refused(deployment.run("-y"), deployment.path)
    assert lines == [
        f"{deployment.path}: host {worker} runs rocky 9.4 (RPM family): planned but not supported yet; "
        "--dry shows its plan, a run without --dry changes no host while it is in the inventory"
    ]
