"""`--dry` against bare Debian 12 hosts: the whole install, in order, and nothing else.

Docker's official apt repository (the default docker_install_source) cannot
be reached from here, so this is where that path is checked: the change
table the operator reads, and, prepared in-process, the apt source, key and
packages the run would send.
"""

import pytest

from tests.cli import responses
from tests.cli.cli import WORKER_IPS, Deployment, head_and_two_workers
from tests.cli.inprocess import prepare
from tests.shell import compose_clis, installs

HEAD = "@fake/head-1"
WORKERS = {"@fake/worker-1", "@fake/worker-2"}
ALL = {HEAD, *WORKERS}

# The install, in the order the table must list it: (operation, hosts changed).
OFFICIAL_INSTALL = [
    ("Fetch Docker's apt signing key and check its fingerprint", ALL),
    ("Add Docker's apt repository, signed by its key", ALL),
    ("Refresh apt, stopping if Docker's apt repository's signature does not verify", ALL),
    ("Write /etc/docker/daemon.json", ALL),
    ("Install Docker's packages from docker_install_source", ALL),
    ("Enable and start Docker", ALL),
    # The image before any file that names it.
    ("Pull the Ray image |", ALL),
    ("Write the Ray env file", ALL),
    ("Write the node's compose file", ALL),
    ("Write the Serve config", {HEAD}),
    ("Start the Ray head", {HEAD}),
    ("Wait until the Ray head is healthy", {HEAD}),
    ("Start the Ray worker once the head is healthy", WORKERS),
    ("Deploy the Serve config", {HEAD}),
    # The checks only read: listed last, as no change.
    ("Check this node's endpoints and logs", set()),
]


@pytest.fixture(scope="module")
def official(tmp_path_factory):
    deployment = head_and_two_workers(tmp_path_factory.mktemp("official"))
    return deployment, deployment.dry()


@pytest.fixture(scope="module")
def distro(tmp_path_factory):
    deployment = head_and_two_workers(tmp_path_factory.mktemp("distro"), docker_install_source="distro")
    return deployment, deployment.dry()


def _position(run, fragment: str) -> int:
    operations = run.operations()
    return next(i for i, name in enumerate(operations) if fragment in name)


def test_official_repository_install_listed_in_order(official):
    _, run = official
    assert run.code == 0, run.describe()
    assert run.has_change_table, run.describe()
    for fragment, hosts in OFFICIAL_INSTALL:
        assert run.changed(fragment) == hosts, f"{fragment}:\n{run.describe()}"
    positions = [_position(run, fragment) for fragment, _ in OFFICIAL_INSTALL]
    assert positions == sorted(positions), run.operations()


def test_official_repository_refresh_and_restart_follow_their_triggers(official):
    _, run = official
    # Docker is not installed yet, so apt is refreshed whatever the key and source do;
    # Docker is installed for the first time, after daemon.json: its package starts
    # it with daemon.json in place, so it is not restarted.
    assert run.changed("Refresh apt, stopping if Docker's apt repository's signature") == ALL
    restart = "Restart Docker because its packages or daemon.json changed"
    assert run.rows_matching(restart) == [] or run.changes_anywhere(restart) == frozenset(), run.describe()


def test_bare_hosts_have_nothing_to_stop_or_remove(official):
    _, run = official
    for fragment in ("Stop the Ray worker", "Stop the Ray head", "Remove leftover containers"):
        assert run.changes_anywhere(fragment) == set(), run.describe()
    assert "NVIDIA" not in run.output


def test_official_repository_source_key_and_packages(official):
    deployment, _ = official
    prepared = prepare(deployment.path)
    for host in ALL:
        source = prepared.uploads(host)["/etc/apt/sources.list.d/docker.sources"]
        assert source.split() == [
            "Types:", "deb",
            "URIs:", "https://download.docker.com/linux/debian",
            "Suites:", "bookworm",
            "Components:", "stable",
            "Architectures:", "amd64",
            "Signed-By:", "/etc/apt/keyrings/docker.gpg",
        ], source
        shell = "\n".join(prepared.shell(host))
        # The key is fetched, checked against Docker's fingerprint, then stored alone.
        assert ("/usr/lib/apt/apt-helper download-file https://download.docker.com/linux/debian/gpg "
                '"$tmp/key"') in shell
        assert ('case "$found" in 9DC858229FC7DD38854AE2D88D81803C0EBFCD88) ;; ') in shell
        assert 'install -D -m 0644 "$tmp/keyring" /etc/apt/keyrings/docker.gpg' in shell
        assert installs(prepared.shell(host), "docker-ce", "docker-ce-cli", "containerd.io",
                        "docker-compose-plugin")
        assert "docker.io" not in shell
        # The official packages bring Compose v2, which starts the node.
        assert compose_clis(prepared.shell(host)) == {"docker compose"}


def test_docker_version_pin_reaches_apt(tmp_path):
    pin = "5:27.3.1-1~debian.12~bookworm"
    deployment = head_and_two_workers(tmp_path, docker_version=pin)
    shell = prepare(deployment.path).shell(HEAD)
    # Quoted for the shell: the pin holds a '~'.
    assert installs(shell, f"docker-ce={pin}", f"docker-ce-cli={pin}", "containerd.io",
                    "docker-compose-plugin", options=("--allow-downgrades",))


def test_distro_packages_instead_of_docker_repository(distro):
    _, run = distro
    assert run.code == 0, run.describe()
    assert run.changed("Install Docker's packages from docker_install_source") == ALL
    for fragment in ("Docker's apt signing key", "Add Docker's apt repository"):
        assert not run.rows_matching(fragment), run.describe()
    # The rest of the deploy is the same.
    for fragment, hosts in OFFICIAL_INSTALL:
        if "Docker's" not in fragment:
            assert run.changed(fragment) == hosts, f"{fragment}:\n{run.describe()}"


def test_distro_packages_and_compose_v1(distro):
    deployment, _ = distro
    prepared = prepare(deployment.path)
    for host in ALL:
        assert "/etc/apt/sources.list.d/docker.sources" not in prepared.uploads(host)
        shell = "\n".join(prepared.shell(host))
        assert installs(prepared.shell(host), "docker.io", "docker-compose",
                        options=("--no-install-recommends",))
        assert "download.docker.com" not in shell
        # docker.io comes with Compose v1: the node is started with docker-compose.
        assert compose_clis(prepared.shell(host)) == {"docker-compose"}


def _updates(shell: list[str]) -> int:
    return sum(1 for command in shell if "apt-get" in command and command.rstrip().endswith(" update"))


def test_docker_from_the_distribution_refreshes_apt_once(tmp_path):
    """A bare host refreshes its lists with the base tools, and only then; a host
    that already has the base tools (its lists may be weeks old) refreshes them
    before installing docker.io."""
    from seedcore.families.debian import BASE_PACKAGES

    deployment = Deployment(tmp_path)
    deployment.head(docker_install_source="distro")
    tools_installed = responses.bare_debian12(DEB_PACKAGES=responses.dpkg_list(BASE_PACKAGES))
    deployment.worker("worker-1", WORKER_IPS[0], docker_install_source="distro", facts=tools_installed)
    deployment.write()
    prepared = prepare(deployment.path)
    bare, tooled = prepared.shell(HEAD), prepared.shell("@fake/worker-1")
    assert _updates(bare) == 1
    assert _updates(tooled) == 1
    install = next(i for i, command in enumerate(tooled)
                   if installs([command], "docker.io", "docker-compose"))
    assert _updates(tooled[:install]) == 1
