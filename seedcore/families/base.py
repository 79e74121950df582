"""What an OS family is to the deploy: the `OsFamily` protocol.

A family owns everything that differs between package managers and
distributions: which hosts it serves, what preflight checks on them, which
facts its install steps read, the package names of each part, how a signed
repository is added and packages installed, and the service names, paths and
groups its packages use (`Layout`). Jobs (seedcore/tasks/) and operations ask
the host's family (`seedcore.families.family_of(host)`) and name no package
manager, distribution, package or path of their own.
"""

from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class Layout:
    """The names and paths a family's packages give each part of the deploy."""

    # Installed on every host before anything else: the deploy's own facts and checks use them.
    base_packages: tuple[str, ...]
    # The host firewall (nftables).
    firewall_packages: tuple[str, ...]
    # Prometheus on the monitoring host: the package, its service, and the file its unit reads
    # its command line from (as prometheus.prometheus_args renders it).
    prometheus_packages: tuple[str, ...]
    prometheus_service: str
    prometheus_args_file: str
    # The GCS store: Redis (and `ss`, which preflight names a port's holder with), its service,
    # its config file and the group it runs as.
    store_packages: tuple[str, ...]
    store_service: str
    store_config: str
    store_group: str
    # The web door: nginx, its service, the group its workers run as, and the distribution's
    # own default site, removed so nginx opens only the doors ("" where the package has none).
    web_packages: tuple[str, ...]
    web_service: str
    web_group: str
    web_default_site: str


@runtime_checkable
class OsFamily(Protocol):
    """One OS family (Debian, RPM, ...). A new family is one module whose object
    has these attributes and methods, listed in seedcore/families/__init__.py."""

    # A short name for messages ("Debian family").
    name: str
    # Which distributions it serves, in words, for preflight's refusal of a host no family serves.
    serves_text: str
    # False for a family whose steps plan under --dry but must not run: preflight refuses its
    # hosts in a run without --dry (seedcore.families.unsupported_line).
    supported: bool
    layout: Layout

    def serves(self, facts: dict) -> bool:
        """Whether a host with these LinuxDistribution facts is this family's."""

    def preflight_problems(self, host, settings: dict, facts: dict) -> list[str]:
        """Facts only: what stops this family from serving a Ray node on `host` (its
        repositories), each line without the host's name."""

    def release_reads(self, host, settings: dict, facts: dict) -> list:
        """The repository files preflight fetches on `host`, as [Fact, kwargs] pairs."""

    def install_reads(self, settings: dict, gpu: bool) -> list:
        """The facts this family's install steps read on a Ray node's host, as [Fact, kwargs]
        pairs for its snapshot (the packages, the architecture, the repositories)."""

    def package_reads(self) -> list:
        """The facts `missing_packages` reads, as [Fact, kwargs] pairs."""

    def missing_packages(self, host, packages: list[str]) -> list[str]:
        """Those of `packages` ("name" or "name=version") not installed as asked on `host`."""

    def install_packages(self, name: str, packages: list[str], update: bool = False,
                         no_recommends: bool = False, allow_downgrades: bool = False):
        """The operation that installs those of `packages` missing on the current host; with
        `update`, the package lists are refreshed first when something is to be installed."""

    def refreshes_lists(self) -> bool:
        """Whether a package step given `update` refreshes the package lists for the rest of
        the run, so that a later step need not (apt's lists; a family whose installer
        refreshes its own metadata says False)."""

    def install_base_tools(self, lists_refreshed: bool = False) -> bool:
        """Install `layout.base_packages`; returns whether the lists are refreshed in this run by now."""

    def docker_packages(self, settings: dict) -> list[str]:
        """The packages Docker comes from, by docker_install_source."""

    def install_docker(self, settings: dict, before_packages=None, lists_refreshed: bool = False) -> list:
        """Docker's packages (and its repository), `before_packages()` just before the package
        step; returns the operations that change Docker, the package step last."""

    def install_gpu_toolkit(self, settings: dict):
        """NVIDIA's container toolkit from NVIDIA's repository; returns the package step."""
