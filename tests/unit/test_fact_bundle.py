"""A FactBundle carrying pyinfra's own facts gives the values those facts give
for the same output: the gated package, directory and service steps decide
with the bundle's values where pyinfra's steps decide with their own."""

import os
import stat
import subprocess
from datetime import datetime

from pyinfra.facts.deb import DebPackages
from pyinfra.facts.files import Directory
from pyinfra.facts.systemd import SystemdStatus

from seedcore.facts.apt import packages_missing
from seedcore.facts.bundle import BUNDLEABLE, SECTION_END, STDERR_LINE, FactBundle, FactFailed
from tests.harness import command_text

# `dpkg -l` on a Debian 12 host: a held package (hi), a multi-arch one
# (libc6:amd64) and one removed with its config kept (rc).
DPKG_L = [
    "Desired=Unknown/Install/Remove/Purge/Hold",
    "| Status=Not/Inst/Conf-files/Unpacked/halF-conf/Half-inst/trig-aWait/Trig-pend",
    "|/ Err?=(none)/Reinst-required (Status,Err: uppercase=bad)",
    "||/ Name                        Version                        Architecture Description",
    "+++-===========================-==============================-============-"
    "=====================================================",
    "ii  ca-certificates             20230311                       all          "
    "Common CA certificates",
    "ii  containerd.io               1.7.22-1                       amd64        "
    "An open and reliable container runtime",
    "ii  docker-ce                   5:27.3.1-1~debian.12~bookworm  amd64        "
    "Docker: the open-source application container engine",
    "hi  iproute2                    6.1.0-3                        amd64        "
    "networking and traffic control tools",
    "ii  libc6:amd64                 2.36-9+deb12u8                 amd64        "
    "GNU C Library: Shared libraries",
    "rc  redis-server                5:7.0.15-1~deb12u1             amd64        "
    "Persistent key-value database with network interface",
]

# `systemctl show --all --property Id --property SubState docker.service`
SYSTEMCTL_SHOW = ["Id=docker.service", "SubState=running"]

# pyinfra's Linux stat command on /opt/seedcore.
STAT = ["user=root group=root mode=drwxr-xr-x atime=1718007302 mtime=1718006000 ctime=1718006000 "
        "size=4096 '/opt/seedcore'"]

READS = [
    ["DebPackages", {}],
    ["SystemdStatus", {"services": ["docker.service"]}],
    ["Directory", {"path": "/opt/seedcore"}],
    ["Directory", {"path": "/opt/seedcore/serve"}],
]


def _bundle_values(sections: list[tuple[str, list[str], int]]) -> list:
    bundle = FactBundle()
    bundle.command(READS)
    output = [line for index, (name, lines, rc) in enumerate(sections)
              for line in [*lines, "", f"{SECTION_END} {index} {name} {rc}"]]
    return bundle.process(output)


def test_a_bundle_parses_dpkg_systemctl_and_stat_output_as_pyinfra_does():
    packages, status, directory, absent = _bundle_values([
        ("DebPackages", DPKG_L, 0),
        ("SystemdStatus", SYSTEMCTL_SHOW, 0),
        ("Directory", STAT, 0),
        # pyinfra's File command prints nothing (and exits 0) for a path that does not exist.
        ("Directory", [], 0),
    ])

    assert packages == DebPackages().process(DPKG_L) == {
        "ca-certificates": {"20230311"},
        "containerd.io": {"1.7.22-1"},
        "docker-ce": {"5:27.3.1-1~debian.12~bookworm"},
        "iproute2": {"6.1.0-3"},
        "libc6": {"2.36-9+deb12u8"},
    }
    assert status == SystemdStatus().process(SYSTEMCTL_SHOW) == {"docker.service": True}
    assert directory == Directory().process(STAT) == {
        "user": "root",
        "group": "root",
        "mode": 755,
        "atime": datetime(2024, 6, 10, 8, 15, 2),
        "mtime": datetime(2024, 6, 10, 7, 53, 20),
        "ctime": datetime(2024, 6, 10, 7, 53, 20),
        "size": 4096,
    }
    assert absent is None is Directory().default()
    # What the gated package step decides with them: a removed package is missing.
    assert packages_missing(packages, ["docker-ce=5:27.3.1-1~debian.12~bookworm", "libc6"]) is False
    assert packages_missing(packages, ["redis-server"]) is True


def test_a_fact_whose_command_fails_is_named_with_its_stderr_never_its_default():
    bundle = FactBundle()
    bundle.command(READS)
    output = [
        *DPKG_L, "", f"{SECTION_END} 0 DebPackages 0",
        "", f"{STDERR_LINE}System has not been booted with systemd as init system (PID 1).",
        f"{STDERR_LINE}Failed to connect to bus: Host is down", f"{SECTION_END} 1 SystemdStatus 1",
        *STAT, "", f"{SECTION_END} 2 Directory 0",
        "", f"{SECTION_END} 3 Directory 0",
    ]
    packages, status, directory, absent = bundle.process(output)

    assert packages == DebPackages().process(DPKG_L)
    assert isinstance(status, FactFailed)
    line = status.line()
    assert line.startswith("could not load fact: SystemdStatus (services=['docker.service']): exit 1: ")
    assert "not been booted with systemd" in line and "Failed to connect to bus" in line
    assert directory["mode"] == 755 and absent is None


def _fake_tool(directory, name, lines):
    path = directory / name
    path.write_text("#!/bin/bash\n" + "".join(f"echo {subprocess.list2cmdline([line])}\n" for line in lines))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def _run(command, bin_dir) -> list[str]:
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    result = subprocess.run(["bash", "-c", command_text(command)], capture_output=True, text=True, env=env,
                            timeout=30)
    return result.stdout.splitlines()


def test_the_bundle_command_reads_what_each_facts_own_command_reads(tmp_path):
    """Run on this machine (dpkg and systemctl faked, stat real): the bundle's
    values are those of each fact read with its own command."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _fake_tool(bin_dir, "dpkg", DPKG_L)
    _fake_tool(bin_dir, "systemctl", SYSTEMCTL_SHOW)
    project = tmp_path / "project dir"
    project.mkdir(mode=0o750)
    project.chmod(0o750)
    reads = [
        ["DebPackages", {}],
        ["SystemdStatus", {"services": ["docker.service"]}],
        ["Directory", {"path": str(project)}],
        ["Directory", {"path": str(tmp_path / "absent")}],
    ]
    bundle = FactBundle()
    values = bundle.process(_run(bundle.command(reads), bin_dir))

    own = []
    for cls, (_, kwargs) in zip((DebPackages, SystemdStatus, Directory, Directory), reads, strict=True):
        fact = cls()
        lines = _run(fact.command(**kwargs), bin_dir)
        own.append(fact.process(lines) if lines else fact.default())
    assert values == own
    assert values[2]["mode"] == 750
    assert values[3] is None


def test_output_without_a_final_newline_keeps_its_section(tmp_path):
    """A file whose last line has no newline (written with printf, or by an
    editor) is read as `cat` reads it, and the facts after it keep their own
    values."""
    marker = tmp_path / ".serve-deployed"
    marker.write_text("4f1c2a9e 0123456789ab")
    reads = [["FileText", {"path": str(marker)}], ["DebPackages", {}], ["FileText", {"path": str(marker)}]]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _fake_tool(bin_dir, "dpkg", DPKG_L)
    bundle = FactBundle()

    values = bundle.process(_run(bundle.command(reads), bin_dir))

    assert values == ["4f1c2a9e 0123456789ab", DebPackages().process(DPKG_L), "4f1c2a9e 0123456789ab"]


FAKE_DOCKER = """#!/bin/bash
# docker as verify's facts call it: the head's container runs, its logs hold one metrics clash.
case "$1" in
  inspect) exit 0 ;;
  logs) printf '%s\\n' 'dashboard started' \\
          'An exception occurred while starting the metrics server: Address already in use' 'ok' ;;
  exec) printf '%s\\n' '[2024-06-10 08:15:04] GCS storage type is StorageType::REDIS_PERSIST' ;;
  info) printf '%s\\n' '{"io.containerd.runc.v2":{},"nvidia":{},"runc":{}}' ;;
esac
"""


def test_verify_s_host_reads_in_one_command_give_what_each_fact_gives_alone(tmp_path):
    """The container's log signatures, the node certificate, the GCS storage type
    and Docker's runtimes, read as one command (fake docker, real cat and awk)."""
    from seedcore import checks

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "docker").write_text(FAKE_DOCKER)
    (bin_dir / "docker").chmod(0o755)
    cert = tmp_path / "node.crt"
    cert.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    reads = [
        ["LogSignatureCounts", {"container": "seedcore-ray-head",
                                "signatures": list(checks.LOG_SIGNATURES.values())}],
        ["FileText", {"path": str(cert)}],
        ["FileText", {"path": str(tmp_path / "absent.crt")}],
        ["GcsStorageType", {"container": "seedcore-ray-head"}],
        ["DockerRuntimes", {}],
    ]
    bundle = FactBundle()
    values = bundle.process(_run(bundle.command(reads), bin_dir))

    own = []
    for name, kwargs in reads:
        fact = BUNDLEABLE[name]()
        lines = _run(fact.command(**kwargs), bin_dir)
        own.append(fact.process(lines) if lines else fact.default())
    assert values == own
    assert values == [
        {"Address already in use": 1, "assert not dest.done()": 0},
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
        None,
        "StorageType::REDIS_PERSIST",
        ["io.containerd.runc.v2", "nvidia", "runc"],
    ]


def _docker_saying(bin_dir, exit_code: int, *said: str) -> None:
    """A docker whose every call prints `said` on stderr and exits `exit_code`."""
    lines = "".join(f"echo {subprocess.list2cmdline([line])} >&2\n" for line in said)
    (bin_dir / "docker").write_text(f"#!/bin/bash\n{lines}exit {exit_code}\n")
    (bin_dir / "docker").chmod(0o755)


CONTAINER_READS = [["DockerEngine", {}],
                   ["ProjectContainers", {"project": "seedcore", "names": ["seedcore-ray-head"]}],
                   ["FileText", {"path": "/nonexistent/seedcore/.serve-deployed"}]]


def test_docker_refusing_the_user_fails_the_container_facts_with_what_docker_said(tmp_path):
    """A permission error on Docker's socket is not "no containers" nor "Docker down"."""
    denied = ("permission denied while trying to connect to the Docker daemon socket at "
              "unix:///var/run/docker.sock: Get \"http://%2Fvar%2Frun%2Fdocker.sock/v1.24/containers/json\": "
              "dial unix /var/run/docker.sock: connect: permission denied")
    _docker_saying(tmp_path, 1, denied)
    bundle = FactBundle()

    engine, containers, marker = bundle.process(_run(bundle.command(CONTAINER_READS), tmp_path))

    for value, name in ((engine, "DockerEngine"), (containers, "ProjectContainers")):
        assert isinstance(value, FactFailed), value
        assert value.line().startswith(f"could not load fact: {name}")
        assert "exit 1" in value.line() and "permission denied while trying to connect" in value.line()
    assert "project=seedcore" in containers.line()
    assert marker is None


def test_docker_not_running_is_down_and_holds_no_containers(tmp_path):
    _docker_saying(tmp_path, 1, "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
                                "Is the docker daemon running?")
    bundle = FactBundle()

    engine, containers, _ = bundle.process(_run(bundle.command(CONTAINER_READS), tmp_path))

    assert engine == {"installed": True, "running": False, "version": ""}
    assert containers == []


def test_a_fact_whose_program_is_missing_is_its_default_as_pyinfra_skips_it(tmp_path):
    """pyinfra's DebPackages needs dpkg (requires_command): on a host without it the
    bundle gives the default, as get_fact does, not a failure."""
    import shutil

    for tool in ("mktemp", "sed", "rm", "cat"):
        (tmp_path / tool).symlink_to(shutil.which(tool))
    bundle = FactBundle()
    result = subprocess.run([shutil.which("bash"), "-c", command_text(bundle.command([["DebPackages", {}]]))],
                            capture_output=True, text=True, env={"PATH": str(tmp_path)}, timeout=30)

    assert bundle.process(result.stdout.splitlines()) == [DebPackages().default()]
