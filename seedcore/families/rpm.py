"""The RPM family (Rocky, RHEL, AlmaLinux, CentOS Stream, Fedora): a stub.

Its steps plan with pyinfra's own `dnf` operations, so `--dry` shows what a
converge would do on such a host, but no run without `--dry` may change one:
preflight refuses its hosts as not supported yet. What is missing before it
can be supported: the repository keys are not checked against a fingerprint
(dnf.repo trusts `gpgkey` as it is fetched), preflight reads no repository
metadata, the Redis config and Prometheus' command line are rendered as
Debian's packages read them, and no lab host of this family exists to run
the end-to-end tests on.
"""

from pyinfra import host
from pyinfra.facts.rpm import RpmPackages
from pyinfra.facts.server import LinuxDistribution
from pyinfra.operations import dnf

from seedcore.families.base import Layout
from seedcore.families.os_release import distro_of, id_like
from seedcore.gpu import toolkit_packages
from seedcore.hostfacts import read_fact

SERVES = "the RPM family (Rocky, RHEL, AlmaLinux, CentOS Stream, Fedora), planned under --dry only"
IDS = ("rocky", "rhel", "almalinux", "centos", "fedora")
# Docker's repository has a directory per distribution; the RHEL rebuilds use CentOS's.
DOCKER_LAYOUT = {"fedora": "fedora", "rhel": "rhel"}
BASE_PACKAGES = ["ca-certificates", "curl", "gnupg2", "iproute", "procps-ng"]
# From the distribution, where docker_install_source='distro' (Fedora's Moby build).
DISTRO_DOCKER_PACKAGES = ["moby-engine", "docker-compose"]

LAYOUT = Layout(
    base_packages=tuple(BASE_PACKAGES),
    firewall_packages=("nftables",),
    prometheus_packages=("golang-github-prometheus",),
    prometheus_service="prometheus",
    prometheus_args_file="/etc/sysconfig/prometheus",
    store_packages=("redis", "iproute"),
    store_service="redis",
    store_config="/etc/redis/redis.conf",
    store_group="redis",
    web_packages=("nginx",),
    web_service="nginx",
    web_group="nginx",
    # nginx's own default server lives in nginx.conf here, not in a site file of its own.
    web_default_site="",
)


def serves(facts: dict) -> bool:
    distro_id, _ = distro_of(facts)
    like = id_like(facts)
    return distro_id in IDS or any(name in like for name in ("rhel", "fedora", "centos"))


def docker_repository_url(settings: dict, facts: dict) -> str:
    distro_id, _ = distro_of(facts)
    return f"{settings['docker_apt_url'].rstrip('/')}/{DOCKER_LAYOUT.get(distro_id, 'centos')}"


def docker_packages(settings: dict) -> list[str]:
    if settings["docker_install_source"] != "docker":
        return list(DISTRO_DOCKER_PACKAGES)
    version = settings["docker_version"]
    pinned = set(settings["docker_pinned_packages"])
    return [f"{name}={version}" if version and name in pinned else name
            for name in settings["docker_official_packages"]]


def install_packages(name: str, packages: list[str], update: bool = False, no_recommends: bool = False,
                     allow_downgrades: bool = False):
    """pyinfra's dnf.packages (dnf refreshes its metadata itself; weak dependencies off
    for `no_recommends`)."""
    return dnf.packages(name=name, packages=list(packages),
                        extra_install_args="--setopt=install_weak_deps=False" if no_recommends else None)


def repository(what: str, filename: str, baseurl: str, gpgkey: str):
    """A dnf repository file with gpgcheck on and its key URL."""
    return dnf.repo(name=f"Add {what} repository (dnf checks packages against {gpgkey})", src=filename,
                    baseurl=baseurl, description=what, gpgcheck=True, gpgkey=gpgkey)


class RpmFamily:
    """The RPM family as an OsFamily (seedcore/families/base.py): planned, refused for a real run."""

    name = "RPM family"
    serves_text = SERVES
    supported = False
    layout = LAYOUT

    def serves(self, facts: dict) -> bool:
        return serves(facts)

    def preflight_problems(self, host, settings: dict, facts: dict) -> list[str]:
        return []

    def release_reads(self, host, settings: dict, facts: dict) -> list:
        return []

    def install_reads(self, settings: dict, gpu: bool) -> list:
        return []

    def package_reads(self) -> list:
        return [[RpmPackages, {}]]

    def missing_packages(self, host, packages: list[str]) -> list[str]:
        installed = read_fact(host, RpmPackages) or {}
        missing = []
        for package in packages:
            name, _, version = package.partition("=")
            versions = installed.get(name) or []
            if not versions or (version and version not in versions):
                missing.append(package)
        return missing

    def install_packages(self, name: str, packages: list[str], update: bool = False,
                         no_recommends: bool = False, allow_downgrades: bool = False):
        return install_packages(name, packages, update, no_recommends, allow_downgrades)

    def refreshes_lists(self) -> bool:
        return False

    def install_base_tools(self, lists_refreshed: bool = False) -> bool:
        install_packages("Install the base tools the deploy uses", BASE_PACKAGES, no_recommends=True)
        return False

    def docker_packages(self, settings: dict) -> list[str]:
        return docker_packages(settings)

    def install_docker(self, settings: dict, before_packages=None, lists_refreshed: bool = False) -> list:
        if settings["docker_install_source"] == "docker":
            url = docker_repository_url(settings, read_fact(host, LinuxDistribution))
            repository("Docker's dnf", "docker-ce-stable", f"{url}/$releasever/$basearch/stable",
                       f"{url}/gpg")
        before = [before_packages()] if before_packages else []
        return [*before, install_packages("Install Docker's packages from docker_install_source",
                                          docker_packages(settings))]

    def install_gpu_toolkit(self, settings: dict):
        base = settings["gpu_toolkit_apt_url"].rstrip("/")
        repository("NVIDIA's container toolkit", "nvidia-container-toolkit", f"{base}/stable/rpm/$basearch",
                   f"{base}/gpgkey")
        return install_packages("Install the NVIDIA container toolkit", toolkit_packages(settings))


RPM = RpmFamily()
