"""Preflight per host, on fake hosts: Docker state, foreign port holders, disk space."""

from seedcore.facts.host import UNKNOWN_HOLDER
from seedcore.tasks.preflight import foreign_port_holders, host_problems
from tests.harness import CONTAINERS_KEY, FakeHost, make_settings

HEAD_ID = "3f1c9a7e5b2d4c6a8e0f1b3d5c7e9a1b2c4d6e8f0a1b3c5d7e9f1a2b3c4d5e6f"
OTHER_ID = "77aa" * 16
IMAGE = "registry.example.com/seedcore/ray:2.20.0"
RUNNING = {"installed": True, "running": True, "version": "27.3.1"}
DOCKER_BOOKWORM = "url=https://download.docker.com/linux/debian/dists/bookworm/Release"
RELEASE = {"fetched": True, "codename": "bookworm", "suite": "bookworm",
           "architectures": ["amd64", "arm64"], "components": ["stable"]}


def _container(cid=HEAD_ID, name="seedcore-ray-head"):
    return {"id": cid, "name": name, "image": IMAGE, "status": "running", "health": "healthy",
            "started_at": "2024-06-10T08:15:02Z", "config_hash": "4b7d2e9a1c3f5e60", "role": "head",
            "compose_project": "seedcore", "managed": True}


DEBIAN_12 = {"name": "Debian", "major": 12, "minor": None,
             "release_meta": {"ID": "debian", "VERSION_CODENAME": "bookworm"}}


PROJECT_DISK = "path=/opt/seedcore"


def _host(groups=("ray_head",), **facts):
    base = {
        "DockerEngine": RUNNING,
        "ProjectContainers": {CONTAINERS_KEY: [_container()]},
        "ListeningPorts": {},
        "ActiveFirewalls": [],
        "ImageId": {f"image={IMAGE}": "sha256:7c3e"},
        "LinuxDistribution": DEBIAN_12,
        "DebArch": "amd64",
        "AptRelease": {DOCKER_BOOKWORM: RELEASE},
    }
    # Room for the archives under the project directory, unless the test says otherwise.
    facts["DiskAvailableMb"] = {PROJECT_DISK: 50000, **facts.get("DiskAvailableMb", {})}
    base.update(facts)
    return FakeHost(name="head-1" if "ray_head" in groups else "worker-1", groups=groups, facts=base)


def test_a_host_running_our_own_head_has_no_problem():
    host = _host(ListeningPorts={
        8265: [{"process": "python", "pid": 812, "container": HEAD_ID}],
        6379: [{"process": "gcs_server", "pid": 790, "container": HEAD_ID}],
        22: [{"process": "sshd", "pid": 601, "container": ""}],
    })
    assert host_problems(host, make_settings(), allow_docker_down=False) == []


def test_a_port_held_by_a_host_process_is_named():
    host = _host(ListeningPorts={8265: [{"process": "nginx", "pid": 1201, "container": ""}]})
    assert host_problems(host, make_settings(), allow_docker_down=False) == [
        "host head-1: port 8265 (ray_dashboard_port) is held by nginx (pid 1201), "
        "not by a seedcore container: stop it, or move ray_dashboard_port to a free port",
    ]


def test_a_port_in_use_on_a_host_without_ss_is_refused_not_missed():
    # A minimal host (no iproute2) still shows its listeners in /proc/net/tcp.
    host = _host(DockerEngine={"installed": False, "running": False, "version": ""},
                 DiskAvailableMb={"path=/var/lib/docker": 60000},
                 ListeningPorts={6379: [dict(UNKNOWN_HOLDER)], 22: [dict(UNKNOWN_HOLDER)]})
    assert host_problems(host, make_settings(), allow_docker_down=False) == [
        "host head-1: port 6379 (ray_gcs_port) is in use and, without iproute2's `ss`, this host "
        "cannot say by what: install iproute2, then stop that process or move ray_gcs_port to a free port",
    ]


def test_a_port_held_by_another_container_is_named():
    host = _host(ListeningPorts={8000: [{"process": "uvicorn", "pid": 4410, "container": OTHER_ID}]})
    (problem,) = host_problems(host, make_settings(), allow_docker_down=False)
    assert "port 8000 (serve_http_port) is held by uvicorn (pid 4410)" in problem


def test_a_worker_only_cares_about_worker_ports():
    host = _host(groups=("ray_workers",),
                 ListeningPorts={8265: [{"process": "nginx", "pid": 1201, "container": ""}],
                                 8080: [{"process": "java", "pid": 2002, "container": ""}]})
    assert host_problems(host, make_settings(), allow_docker_down=False) == [
        "host worker-1: port 8080 (ray_metrics_export_port) is held by java (pid 2002), "
        "not by a seedcore container: stop it, or move ray_metrics_export_port to a free port",
    ]


def test_docker_installed_but_down():
    host = _host(DockerEngine={"installed": True, "running": False, "version": ""},
                 DiskAvailableMb={"path=/var/lib/docker": 50000})
    problems = host_problems(host, make_settings(), allow_docker_down=False)
    assert len(problems) == 1
    assert "Docker is installed but not answering" in problems[0]
    assert host_problems(host, make_settings(), allow_docker_down=True) == []
    # With Docker down, the containers cannot be asked for.
    assert "ProjectContainers" not in [name for name, _ in host.fact_calls]


def test_low_disk_when_the_image_must_be_pulled():
    host = _host(ImageId={f"image={IMAGE}": None}, DiskAvailableMb={"path=/var/lib/docker": 1024})
    assert host_problems(host, make_settings(), allow_docker_down=False) == [
        "host head-1: only 1024 MiB free under /var/lib/docker, 8192 MiB needed for the images: "
        "free some space or lower docker_min_free_mb",
    ]


def test_disk_is_not_checked_when_the_image_is_present():
    # The fixture has no DiskAvailableMb for /var/lib/docker: reading it would raise.
    host = _host()
    assert host_problems(host, make_settings({"docker_min_free_mb": 10**9}), allow_docker_down=False) == []


def test_too_little_room_for_the_archives_is_refused_naming_the_key():
    host = _host(DiskAvailableMb={PROJECT_DISK: 500})
    assert host_problems(host, make_settings({}), allow_docker_down=False) == [
        "host head-1: only 500 MiB free under /opt/seedcore, 2048 MiB needed for the archives of removed "
        "containers: free some space or lower ray_archive_max_mb",
    ]
    assert host_problems(host, make_settings({"ray_archive_max_mb": 400}), allow_docker_down=False) == []


def test_free_space_that_cannot_be_read_is_a_problem_not_a_pass():
    host = _host(DiskAvailableMb={PROJECT_DISK: None})
    (line,) = host_problems(host, make_settings({}), allow_docker_down=False)
    assert line.startswith("host head-1: the free space under /opt/seedcore could not be read")


def test_fresh_host_without_docker():
    host = _host(DockerEngine={"installed": False, "running": False, "version": ""},
                 DiskAvailableMb={"path=/var/lib/docker": 30000})
    assert host_problems(host, make_settings(), allow_docker_down=False) == []


def test_foreign_port_holders_lists_every_holder():
    ports = {8080: [{"process": "a", "pid": 1, "container": ""}, {"process": "b", "pid": 2, "container": ""}]}
    problems = foreign_port_holders(ports, {"ray_metrics_export_port": 8080}, set())
    assert [p.split(" is held by ")[1].split(",")[0] for p in problems] == ["a (pid 1)", "b (pid 2)"]


ALPINE = {"name": "Alpine Linux", "major": 3, "minor": 20,
          "release_meta": {"ID": "alpine", "VERSION_ID": "3.20.1"}}
NOT_SERVED = (
    "alpine 3.20.1 is not served: the deploy serves the Debian family (Debian 12 and 13, Ubuntu 22.04 "
    "and 24.04); the RPM family (Rocky, RHEL, AlmaLinux, CentOS Stream, Fedora), planned under --dry "
    "only; move the node to such a host or take this host out of the inventory"
)


def test_a_host_no_family_serves_is_refused_whatever_the_install_source():
    for source in ("docker", "distro"):
        host = _host(LinuxDistribution=ALPINE)
        assert host_problems(host, make_settings({"docker_install_source": source}),
                             allow_docker_down=False) == [f"host head-1: {NOT_SERVED}"]


def test_a_host_of_a_family_not_supported_yet_is_named_once_for_the_whole_run():
    from seedcore.families import unsupported_line

    rocky = {"name": "Rocky Linux", "major": 9, "minor": 4,
             "release_meta": {"ID": "rocky", "ID_LIKE": "rhel centos fedora", "VERSION_ID": "9.4"}}
    host = _host(LinuxDistribution=rocky)
    # Its own problems are the host's; the family's refusal is the run's (refused, or a warning under --dry).
    assert host_problems(host, make_settings(), allow_docker_down=False) == []
    assert unsupported_line(host) == (
        "host head-1 runs rocky 9.4 (RPM family): planned but not supported yet; --dry shows its plan, "
        "a run without --dry changes no host while it is in the inventory"
    )
    assert unsupported_line(_host()) is None


def test_docker_repository_on_a_debian_derivative_outside_its_layout():
    mint = {"name": "Linux Mint", "major": 21, "minor": None,
            "release_meta": {"ID": "linuxmint", "ID_LIKE": "ubuntu debian", "VERSION_CODENAME": "vera"}}
    host = _host(LinuxDistribution=mint)
    assert host_problems(host, make_settings(), allow_docker_down=False) == [
        "host head-1: docker_install_source='docker' supports Debian and Ubuntu, not linuxmint: "
        "use docker_install_source='distro'"
    ]
    assert host_problems(host, make_settings({"docker_install_source": "distro"}),
                         allow_docker_down=False) == []


def test_a_codename_the_repository_does_not_carry():
    trixie = {"name": "Debian", "major": 13, "minor": None,
              "release_meta": {"ID": "debian", "VERSION_CODENAME": "trixie"}}
    missing = {"fetched": False, "error": "Failed to fetch http://mirror.lab:8080/debian/dists/"
               "trixie/Release  404  File not found [IP: 10.0.0.2 8080]"}
    host = _host(LinuxDistribution=trixie,
                 AptRelease={"url=http://mirror.lab:8080/debian/dists/trixie/Release": missing})
    settings = make_settings({"docker_apt_url": "http://mirror.lab:8080/"})
    assert host_problems(host, settings, allow_docker_down=False) == [
        "host head-1: docker_apt_url http://mirror.lab:8080/debian does not carry debian trixie: "
        "http://mirror.lab:8080/debian/dists/trixie/Release could not be fetched (Failed to fetch "
        "http://mirror.lab:8080/debian/dists/trixie/Release  404  File not found [IP: 10.0.0.2 8080]); "
        "point docker_apt_url at a mirror that carries it, or use docker_install_source='distro'"
    ]


def test_an_architecture_the_mirror_lacks():
    host = _host(DebArch="arm64", AptRelease={DOCKER_BOOKWORM: {**RELEASE, "architectures": ["amd64"]}})
    assert host_problems(host, make_settings(), allow_docker_down=False) == [
        "host head-1: docker_apt_url https://download.docker.com/linux/debian carries bookworm for "
        "amd64, not for this host's arm64: add arm64 to the mirror, or use docker_install_source='distro'"
    ]
    # The distribution's own packages need no such repository.
    assert host_problems(host, make_settings({"docker_install_source": "distro"}),
                         allow_docker_down=False) == []


def test_clock_skew_beyond_the_limit_names_both_hosts():
    from seedcore.tasks.preflight import clock_skew_problem

    assert clock_skew_problem({"head-1": 0, "worker-1": 3}) is None
    line = clock_skew_problem({"head-1": 0, "worker-1": 95, "worker-2": 2})
    assert line.startswith("clocks differ by 95s between head-1 and worker-1")
    assert "time sync" in line


def test_every_problem_of_a_host_is_listed():
    """A GPU or distribution problem no longer hides the host's other problems."""
    host = _host(groups=("ray_workers", "gpu"), LinuxDistribution=ALPINE,
                 NvidiaGpus={"working": False, "count": 0, "error": "nvidia-smi not found"},
                 ListeningPorts={8080: [{"process": "java", "pid": 2002, "container": ""}]},
                 ImageId={f"image={IMAGE}": None}, DiskAvailableMb={"path=/var/lib/docker": 100})
    assert host_problems(host, make_settings(), allow_docker_down=False) == [
        "host worker-1 is in group gpu but has no working NVIDIA driver (nvidia-smi not found): "
        "install the driver (nvidia-smi must answer) or take the host out of the gpu group",
        f"host worker-1: {NOT_SERVED}",
        "host worker-1: port 8080 (ray_metrics_export_port) is held by java (pid 2002), "
        "not by a seedcore container: stop it, or move ray_metrics_export_port to a free port",
        "host worker-1: only 100 MiB free under /var/lib/docker, 8192 MiB needed for the images: "
        "free some space or lower docker_min_free_mb",
    ]


def test_a_gpu_host_whose_toolkit_repository_does_not_answer_is_refused():
    # Seen on a real offline GPU host: nothing stopped the run before the toolkit's key fetch.
    toolkit = "https://nvidia.github.io/libnvidia-container/stable/deb/amd64/Release"
    host = _host(groups=("ray_workers", "gpu"),
                 NvidiaGpus={"working": True, "count": 1, "driver": "580.159.04",
                             "names": ["NVIDIA H100 80GB HBM3"], "error": ""},
                 AptRelease={f"url={toolkit}": {
                     "fetched": False, "error": "Temporary failure resolving 'nvidia.github.io'"},
                     DOCKER_BOOKWORM: RELEASE})
    assert host_problems(host, make_settings(), allow_docker_down=False) == [
        "host worker-1: gpu_toolkit_apt_url: https://nvidia.github.io/libnvidia-container/stable/deb/"
        "amd64/Release could not be fetched (Temporary failure resolving 'nvidia.github.io'); point "
        "gpu_toolkit_apt_url at a mirror that carries NVIDIA's container toolkit",
    ]


def _release_urls_read(host, settings) -> list[str]:
    host.fact_calls.clear()
    host_problems(host, settings, allow_docker_down=False)
    return [kwargs["url"] for name, kwargs in host.fact_calls if name == "AptRelease"]


def test_the_release_round_reads_every_release_file_preflight_checks():
    """Preflight's second round fetches, every host at once, the Release files
    host_problems then reads: none is left to fetch one host at a time."""
    from seedcore.families import release_reads

    toolkit = "https://nvidia.github.io/libnvidia-container/stable/deb/amd64/Release"
    gpu = _host(groups=("ray_workers", "gpu"),
                NvidiaGpus={"working": True, "count": 1, "driver": "580.159.04",
                            "names": ["NVIDIA H100 80GB HBM3"], "error": ""},
                AptRelease={f"url={toolkit}": RELEASE, DOCKER_BOOKWORM: RELEASE})
    rocky = _host(LinuxDistribution={"name": "Rocky Linux", "major": 9, "minor": 4,
                                     "release_meta": {"ID": "rocky", "VERSION_CODENAME": ""}})
    cases = [
        (_host(), make_settings(), [DOCKER_BOOKWORM.removeprefix("url=")]),
        (_host(), make_settings({"docker_install_source": "distro"}), []),
        (gpu, make_settings(), [DOCKER_BOOKWORM.removeprefix("url="), toolkit]),
        (rocky, make_settings(), []),
    ]
    for host, settings, urls in cases:
        fetched = [kwargs["url"] for fact, kwargs in release_reads(host, settings)
                   if fact.__name__ == "AptRelease"]
        assert fetched == urls
        assert sorted(_release_urls_read(host, settings)) == sorted(urls)


def test_an_active_ufw_or_firewalld_stops_the_run_naming_it():
    host = _host(ActiveFirewalls=["firewalld", "ufw"])
    problems = host_problems(host, make_settings(), allow_docker_down=False)
    assert [line.split(":")[1].split()[0] for line in problems] == ["firewalld", "ufw"]
    assert all(line.startswith("host head-1: ") and "firewall_manage=False" in line for line in problems)


def test_an_active_ufw_is_left_alone_when_the_firewall_is_not_managed():
    host = FakeHost(name="store-1", groups=("ray_gcs_store",), data={"firewall_manage": False},
                    facts={"ListeningPorts": {}, "LinuxDistribution": DEBIAN_12})
    assert host_problems(host, make_settings({"firewall_manage": False}), allow_docker_down=False) == []


def test_ufw_is_named_on_a_store_host_too():
    host = FakeHost(name="store-1", groups=("ray_gcs_store",),
                    facts={"ListeningPorts": {}, "ActiveFirewalls": ["ufw"], "LinuxDistribution": DEBIAN_12})
    assert [line.split(": ")[1].split()[0] for line in host_problems(host, make_settings(), False)] == ["ufw"]


def test_clocks_are_the_epochs_read_together_and_an_unread_clock_is_a_problem(monkeypatch):
    """The hosts' epochs come from the one read of every host at once; reading them later,
    host by host, against this machine's clock would add the loop's own time."""
    import time

    from seedcore.tasks import preflight

    monkeypatch.setattr(time, "time", lambda: (_ for _ in ()).throw(AssertionError("not this clock")))
    hosts = [FakeHost(name=name, facts={"EpochSeconds": epoch})
             for name, epoch in (("head-1", 1_796_300_000), ("worker-1", 1_796_300_001), ("worker-2", None))]
    clocks, unread = preflight.host_clocks(hosts)
    assert clocks == {"head-1": 1_796_300_000, "worker-1": 1_796_300_001}
    assert preflight.clock_skew_problem(clocks) is None
    assert unread == ["host worker-2: its clock could not be read (`date +%s` gave nothing): "
                      "check the host's shell and coreutils"]


def test_a_sudo_password_that_sudo_refuses_is_named(monkeypatch):
    from types import SimpleNamespace

    from seedcore.tasks import preflight

    class Host:
        name, data = "worker-1", {"_sudo": True, "_sudo_password": "wrong", "ssh_user": "ops"}

        def get_fact(self, cls, **arguments):
            assert arguments == {"_sudo": False}, "asked through sudo, a sudo that asks would prompt"
            return "password"

        def run_shell_command(self, command, **arguments):
            # The password given goes with it (pyinfra's askpass), or pyinfra would prompt.
            assert arguments == {"_sudo": True, "_sudo_password": "wrong"}
            return False, SimpleNamespace(stderr="sudo: 1 incorrect password attempt\n")

    host = Host()
    state = SimpleNamespace(inventory=SimpleNamespace(get_active_hosts=lambda: [host]),
                            config=SimpleNamespace(SUDO_PASSWORD=None, PARALLEL=0))
    monkeypatch.setattr(preflight, "parallel_limit", lambda state, hosts: 4)
    assert preflight.sudo_problems(state) == [
        "host worker-1: sudo refuses the password given for ops: sudo: 1 incorrect password attempt"]
