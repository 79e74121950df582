"""The Debian family (Debian, Ubuntu): apt, deb822 sources signed by a keyring
whose fingerprint is checked, and what preflight reads from a repository's
Release file before any host changes. `DEBIAN` is the family object
(seedcore/families/base.py's OsFamily); the functions below are its parts."""

import shlex

from pyinfra import host
from pyinfra.facts.apt import AptSources
from pyinfra.facts.deb import DebArch, DebPackages
from pyinfra.facts.files import Directory
from pyinfra.facts.server import LinuxDistribution
from pyinfra.operations import apt, files, server

from seedcore.facts.apt import AptRelease, HeldPackages, KeyringFingerprints, missing_packages
from seedcore.families.base import Layout
from seedcore.families.os_release import distro_of, id_like
from seedcore.gpu import toolkit_packages
from seedcore.hostfacts import read_fact
from seedcore.operations import signed_apt as signed_apt_ops
from seedcore.signed_apt import KEYRING_DIR, release_url
from seedcore.topology import is_gpu_host, settings_for

SERVES = "the Debian family (Debian 12 and 13, Ubuntu 22.04 and 24.04)"
# Distributions Docker's repository layout has a directory for.
DOCKER_LAYOUT = ("debian", "ubuntu")
DOCKER_KEYRING = f"{KEYRING_DIR}/docker.gpg"
# Tools the deploy's own facts and checks use on every host; gpg checks the
# fingerprint of a repository key before apt is told to trust it.
BASE_PACKAGES = ["ca-certificates", "curl", "gpg", "iproute2", "procps"]
TOOLKIT_KEYRING = f"{KEYRING_DIR}/nvidia-container-toolkit.gpg"

LAYOUT = Layout(
    base_packages=tuple(BASE_PACKAGES),
    firewall_packages=("nftables",),
    prometheus_packages=("prometheus",),
    prometheus_service="prometheus",
    # Debian's prometheus.service reads its command line from $ARGS here.
    prometheus_args_file="/etc/default/prometheus",
    # iproute2: preflight names the holder of the Redis port with its `ss`.
    store_packages=("redis-server", "iproute2"),
    store_service="redis-server",
    # Debian's redis-server unit starts redis-server with it, supervised by systemd.
    store_config="/etc/redis/redis.conf",
    store_group="redis",
    web_packages=("nginx",),
    web_service="nginx",
    # nginx's workers run as www-data and read the password file at each request.
    web_group="www-data",
    # Debian's own site: port 80, a welcome page.
    web_default_site="/etc/nginx/sites-enabled/default",
)


def toolkit_uri(settings: dict, arch: str) -> str:
    """NVIDIA's repository is flat: one directory per architecture, suite "/"."""
    return f"{settings['gpu_toolkit_apt_url'].rstrip('/')}/stable/deb/{arch}"


def toolkit_release_problem(repo_uri: str, release: dict | None) -> str | None:
    """Why NVIDIA's toolkit repository cannot serve this host, read from its
    flat Release file (fetched on the host), or None."""
    if release and release["fetched"]:
        return None
    error = (release or {}).get("error") or "no answer"
    return (
        f"gpu_toolkit_apt_url: {repo_uri}/Release could not be fetched ({error}); point "
        "gpu_toolkit_apt_url at a mirror that carries NVIDIA's container toolkit"
    )


def serves(facts: dict) -> bool:
    distro_id, _ = distro_of(facts)
    return distro_id in DOCKER_LAYOUT or "debian" in id_like(facts) or "ubuntu" in id_like(facts)


def docker_repository_url(settings: dict, distro_id: str) -> str:
    return f"{settings['docker_apt_url'].rstrip('/')}/{distro_id}"


def unsupported_layout_problem(distro_id: str) -> str:
    return (
        f"docker_install_source='docker' supports Debian and Ubuntu, "
        f"not {distro_id or 'an unknown distribution'}: use docker_install_source='distro'"
    )


def release_problems(repo_url: str, distro_id: str, codename: str, arch: str,
                     release: dict | None) -> list[str]:
    """Why the repository at `repo_url` cannot serve this host, read from its Release file."""
    where = release_url(repo_url, codename)
    if not release or not release["fetched"]:
        error = (release or {}).get("error") or "no answer"
        return [
            f"docker_apt_url {repo_url} does not carry {distro_id} {codename or '(no codename)'}: "
            f"{where} could not be fetched ({error}); point docker_apt_url at a mirror that "
            "carries it, or use docker_install_source='distro'"
        ]
    if arch not in release["architectures"]:
        carried = " ".join(release["architectures"]) or "no architecture"
        return [
            f"docker_apt_url {repo_url} carries {codename} for {carried}, not for this host's "
            f"{arch}: add {arch} to the mirror, or use docker_install_source='distro'"
        ]
    return []


def release_urls(host, settings: dict, facts: dict) -> dict[str, str]:
    """The Release files this host installs from, by repository: "docker" (Docker's,
    with docker_install_source='docker' on a distribution its layout has) and
    "toolkit" (NVIDIA's, on a GPU host). Their URLs come from the host's codename
    and architecture."""
    urls = {}
    distro_id, codename = distro_of(facts)
    if settings["docker_install_source"] == "docker" and distro_id in DOCKER_LAYOUT:
        urls["docker"] = release_url(docker_repository_url(settings, distro_id), codename)
    if is_gpu_host(host):
        urls["toolkit"] = f"{toolkit_uri(settings, read_fact(host, DebArch) or 'amd64')}/Release"
    return urls


def release_reads(host, settings: dict, facts: dict) -> list:
    """The Release files preflight reads on this host, as [AptRelease, kwargs]
    pairs: their URLs depend on the host's first bundle, so they are read in a
    round of their own, every host at once."""
    return [[AptRelease, {"url": url}] for url in release_urls(host, settings, facts).values()]


def preflight_problems(host, settings: dict, facts: dict) -> list[str]:
    """Facts only: the repositories this host installs from answer it (their
    Release files, fetched on the host with apt-helper): Docker's carries its
    codename and architecture; on a GPU host, NVIDIA's toolkit repository."""
    arch = read_fact(host, DebArch) or "amd64"
    urls = release_urls(host, settings, facts)
    problems = docker_repository_problems(host, settings, facts, arch, urls.get("docker"))
    if "toolkit" in urls:
        problem = toolkit_release_problem(toolkit_uri(settings, arch),
                                          read_fact(host, AptRelease, url=urls["toolkit"]))
        problems += [problem] if problem else []
    return problems


def docker_repository_problems(host, settings: dict, facts: dict, arch: str, url: str | None) -> list[str]:
    """Why Docker's repository cannot serve this host; `url` is its Release file (release_urls)."""
    if settings["docker_install_source"] != "docker":
        return []
    distro_id, codename = distro_of(facts)
    if url is None:
        return [unsupported_layout_problem(distro_id)]
    release = read_fact(host, AptRelease, url=url)
    return release_problems(docker_repository_url(settings, distro_id), distro_id, codename, arch, release)


def official_package_list(settings: dict) -> list[str]:
    """docker_official_packages, those in docker_pinned_packages pinned to docker_version when set."""
    version = settings["docker_version"]
    pinned = set(settings["docker_pinned_packages"])
    return [
        f"{name}={version}" if version and name in pinned else name
        for name in settings["docker_official_packages"]
    ]


def pinned_names(settings: dict) -> list[str]:
    """The names docker_version pins (those of docker_official_packages in
    docker_pinned_packages), held at it; none without a pin or from the distribution."""
    if settings["docker_install_source"] != "docker" or not settings["docker_version"]:
        return []
    pinned = set(settings["docker_pinned_packages"])
    return [name for name in settings["docker_official_packages"] if name in pinned]


def hold_changes(settings: dict, installed: dict, held: list[str]) -> tuple[list[str], list[str]]:
    """(release, hold): the pinned packages whose hold is released before the package
    step because the pin moved (held, not installed at docker_version), and those held
    after it (not held yet, or just released). An operator's hold on any other package
    is not touched; a host whose pinned packages are held at the pin gets neither."""
    names = pinned_names(settings)
    version = settings["docker_version"]
    moving = {name for name in names if missing_packages(installed, [f"{name}={version}"])}
    release = [name for name in names if name in moving and name in held]
    hold = [name for name in names if name not in held or name in release]
    return release, hold


def apt_mark_command(action: str, names: list[str]) -> str:
    """`apt-mark hold|unhold NAME...`."""
    return shlex.join(["apt-mark", action, *names])


def install_reads(settings: dict, gpu: bool = False) -> list:
    """The facts this family's install steps read on a host, as [Fact, kwargs]
    pairs for its bundle: the packages, the architecture, the held packages where
    docker_version pins some, and for a signed repository (Docker's with
    docker_install_source='docker', NVIDIA's on a GPU host) the keyrings
    directory, the keyring and the sources."""
    reads = [[DebPackages, {}], [DebArch, {}]]
    if pinned_names(settings):
        reads.append([HeldPackages, {}])
    keyrings: tuple = (TOOLKIT_KEYRING,) if gpu else ()
    if settings["docker_install_source"] == "docker":
        keyrings = (DOCKER_KEYRING, *keyrings)
    if keyrings:
        reads += [[Directory, {"path": KEYRING_DIR}], [AptSources, {}]]
        reads += [[KeyringFingerprints, {"path": keyring}] for keyring in keyrings]
    return reads


def host_missing_packages(host, packages: list[str]) -> list[str]:
    """Those of `packages` not installed as asked on `host` (its dpkg database)."""
    return missing_packages(read_fact(host, DebPackages) or {}, packages)


def apt_options(settings: dict) -> str:
    """The options every apt-get of the deploy carries: wait up to docker_apt_lock_wait_s
    for dpkg's lock while another apt holds it (apt-daily on a fresh host), and retry
    a failed download docker_apt_retries times."""
    return shlex.join(["-o", f"DPkg::Lock::Timeout={int(settings['docker_apt_lock_wait_s'])}",
                       "-o", f"Acquire::Retries={int(settings['docker_apt_retries'])}"])


def refresh_command(settings: dict) -> str:
    """`apt-get update` with the deploy's lock wait and retries (apt_options)."""
    return f"apt-get {apt_options(settings)} update"


def install_packages(name: str, packages: list[str], update: bool = False, no_recommends: bool = False,
                     allow_downgrades: bool = False):
    """The package step: pyinfra's apt.packages, its facts answered from the host's
    snapshot, each apt-get with apt_options. With `update`, apt's lists are refreshed
    first only when one of `packages` is missing, so a converged host runs no
    `apt-get update` (pyinfra's own refresh takes no options: this one does)."""
    settings = settings_for(host)
    if update and host_missing_packages(host, packages):
        server.shell(name="Refresh apt's package lists, waiting for dpkg's lock",
                     commands=[refresh_command(settings)])
    return apt.packages(
        name=name,
        packages=list(packages),
        no_recommends=no_recommends,
        allow_downgrades=allow_downgrades,
        extra_install_args=apt_options(settings),
    )


def install_base_tools(lists_refreshed: bool = False) -> bool:
    """The tools the deploy's steps and checks use, apt's lists refreshed first
    when one is missing, unless an earlier step refreshes them in this run
    (`lists_refreshed`). Returns whether the lists are refreshed in this run by
    now (decided from the facts read when the run began)."""
    install_packages(
        name="Install the base tools the deploy uses",
        packages=BASE_PACKAGES,
        update=not lists_refreshed,
        no_recommends=True,
    )
    return lists_refreshed or bool(host_missing_packages(host, BASE_PACKAGES))


def signed_repository(what: str, filename: str, key_url: str, keyring: str, fingerprint: str,
                      fingerprint_key: str, url_key: str, uri: str, suites: list[str],
                      components: list[str], packages: list[str]):
    """A deb822 source signed by a keyring whose fingerprint was checked, and a
    checked `apt-get update` when the key or source changed or a wanted package
    is not installed yet. A key or signature that does not verify fails the
    host here, before any package step. Returns the operations that change."""
    files.directory(name="Create the apt keyrings directory", path=KEYRING_DIR, mode="0755")
    key = signed_apt_ops.signing_key(
        name=f"Fetch {what} signing key and check its fingerprint",
        key_url=key_url, keyring=keyring, fingerprint=fingerprint,
        fingerprint_key=fingerprint_key, url_key=url_key,
    )
    repository = {
        "uris": [uri],
        "suites": suites,
        "components": components,
        "architectures": [read_fact(host, DebArch) or "amd64"],
        "signed_by": keyring,
    }
    source = signed_apt_ops.source_file(
        name=f"Add {what} repository, signed by its key",
        filename=filename,
        **repository,
    )
    signed_apt_ops.refreshed(
        name=f"Refresh apt, stopping if {what} repository's signature does not verify",
        source=repository, fingerprint=fingerprint, fingerprint_key=fingerprint_key, url_key=url_key,
        packages=packages, changes=[key, source],
    )
    return key, source


def docker_packages(settings: dict) -> list[str]:
    """The packages Docker comes from ("name" or "name=version"), by docker_install_source."""
    if settings["docker_install_source"] != "docker":
        return list(settings["docker_distro_packages"])
    return official_package_list(settings)


def install_docker(settings: dict, before_packages=None, lists_refreshed: bool = False) -> list:
    """Docker's packages from docker_install_source, with `before_packages()`
    (an operation) just before the package step; returns the operations that
    change Docker, the package step last. One install step for either source
    (one name that holds for both), so hosts of both kinds install at the same time.
    From the distribution, apt's lists are refreshed before a package is installed
    unless an earlier step refreshes them in this run (`lists_refreshed`); from
    Docker's repository, the checked refresh does it. The packages docker_version
    pins are held (apt-mark), so an operator's upgrade leaves Docker as pinned; a
    changed pin releases their hold for the package step and holds them again."""
    from_repository = settings["docker_install_source"] == "docker"
    packages = docker_packages(settings)
    if from_repository:
        distro_id, codename = distro_of(read_fact(host, LinuxDistribution))
        repo_url = docker_repository_url(settings, distro_id)
        signed_repository(
            "Docker's apt", "docker", f"{repo_url}/gpg", DOCKER_KEYRING,
            settings["docker_apt_key_fingerprint"], "docker_apt_key_fingerprint", "docker_apt_url",
            repo_url, [codename], ["stable"], packages,
        )
    before = [before_packages()] if before_packages else []
    held = read_fact(host, HeldPackages) if pinned_names(settings) else []
    release, hold = hold_changes(settings, read_fact(host, DebPackages) or {}, held)
    if release:
        server.shell(name="Release the hold on Docker's pinned packages because docker_version changed",
                     commands=[apt_mark_command("unhold", release)])
    step = install_packages(
        name="Install Docker's packages from docker_install_source",
        packages=packages,
        update=not from_repository and not lists_refreshed,
        no_recommends=not from_repository,
        allow_downgrades=from_repository and bool(settings["docker_version"]),
    )
    if hold:
        server.shell(name="Hold Docker's pinned packages at docker_version, so no apt upgrade moves them",
                     commands=[apt_mark_command("hold", hold)])
    return [*before, step]


def install_gpu_toolkit(settings: dict):
    """NVIDIA's container toolkit through the same signed path as Docker's: its
    key is checked against gpu_toolkit_key_fingerprint before apt trusts it, and
    `apt-get update` stops the host when the signature does not verify."""
    packages = toolkit_packages(settings)
    signed_repository(
        "NVIDIA's container toolkit", "nvidia-container-toolkit",
        f"{settings['gpu_toolkit_apt_url'].rstrip('/')}/gpgkey", TOOLKIT_KEYRING,
        settings["gpu_toolkit_key_fingerprint"], "gpu_toolkit_key_fingerprint", "gpu_toolkit_apt_url",
        toolkit_uri(settings, read_fact(host, DebArch) or "amd64"), ["/"], [], packages,
    )
    return install_packages(
        name="Install the NVIDIA container toolkit",
        packages=packages,
        allow_downgrades=bool(settings["gpu_toolkit_version"]),
    )


class DebianFamily:
    """The Debian family as an OsFamily (seedcore/families/base.py)."""

    name = "Debian family"
    serves_text = SERVES
    supported = True
    layout = LAYOUT

    def serves(self, facts: dict) -> bool:
        return serves(facts)

    def preflight_problems(self, host, settings: dict, facts: dict) -> list[str]:
        return preflight_problems(host, settings, facts)

    def release_reads(self, host, settings: dict, facts: dict) -> list:
        return release_reads(host, settings, facts)

    def install_reads(self, settings: dict, gpu: bool) -> list:
        return install_reads(settings, gpu)

    def package_reads(self) -> list:
        return [[DebPackages, {}]]

    def missing_packages(self, host, packages: list[str]) -> list[str]:
        return host_missing_packages(host, packages)

    def install_packages(self, name: str, packages: list[str], update: bool = False,
                         no_recommends: bool = False, allow_downgrades: bool = False):
        return install_packages(name, packages, update, no_recommends, allow_downgrades)

    def refreshes_lists(self) -> bool:
        return True

    def install_base_tools(self, lists_refreshed: bool = False) -> bool:
        return install_base_tools(lists_refreshed)

    def docker_packages(self, settings: dict) -> list[str]:
        return docker_packages(settings)

    def install_docker(self, settings: dict, before_packages=None, lists_refreshed: bool = False) -> list:
        return install_docker(settings, before_packages, lists_refreshed)

    def install_gpu_toolkit(self, settings: dict):
        return install_gpu_toolkit(settings)


DEBIAN = DebianFamily()
