"""Operations for a signed apt repository: its key, checked against the
expected fingerprint before it is stored, and an `apt-get update` that stops
the host when the repository's signature does not verify. Each reads facts,
decides, and yields commands or calls ``host.noop``."""

from pyinfra import host
from pyinfra.api import operation
from pyinfra.facts.apt import AptSources
from pyinfra.facts.deb import DebPackages

from seedcore import signed_apt
from seedcore.facts.apt import KeyringFingerprints, packages_missing
from seedcore.hostfacts import read_fact
from seedcore.operations import system
from seedcore.pyinfra_seam import apt_repos


def key_held(keyring: str, fingerprint: str) -> bool:
    """Whether `keyring` on the host holds the key `fingerprint`."""
    return signed_apt.normalise_fingerprint(fingerprint) in read_fact(host, KeyringFingerprints, path=keyring)


def source_listed(source: dict) -> bool:
    """Whether the host's apt sources already hold every repository of the
    deb822 source ``source`` (``apt.sources_file``'s uris, suites, components,
    architectures and signed_by), compared as ``apt.sources_file`` compares
    them before it writes the file."""
    wanted = apt_repos(
        types=["deb"],
        uris=list(source["uris"]),
        suites=list(source["suites"]),
        components=list(source["components"]),
        architectures=list(source["architectures"]) or None,
        signed_by=[source["signed_by"]],
    )
    existing = read_fact(host, AptSources)
    return bool(wanted) and all(repo in existing for repo in wanted)


def refresh_reasons(source: dict, fingerprint: str, packages: list[str]) -> list[str]:
    """Why apt needs a refresh for this repository, read from facts: a wanted
    package is not installed yet, or the key or the source step would change
    something (each decided as that step decides it)."""
    reasons = []
    if packages_missing(read_fact(host, DebPackages) or {}, packages):
        reasons.append("a package from it is not installed yet")
    if not key_held(source["signed_by"], fingerprint):
        reasons.append(f"{source['signed_by']} changes")
    if not source_listed(source):
        reasons.append("its source changes")
    return reasons


@operation()
def source_file(filename: str, uris: list[str], suites: list[str], components: list[str],
                architectures: list[str], signed_by: str):
    """
    Write the deb822 source ``/etc/apt/sources.list.d/<filename>.sources``
    unless the host's apt sources already list every repository it names,
    signed by ``signed_by`` (decided, and written, as ``apt.sources_file``
    does).

    + filename: the file's name, without ``.sources``
    + uris, suites, components, architectures: the repository
    + signed_by: the keyring that signs it

    **Example:**

    .. code:: python

        signed_apt.source_file(name="Add Docker's apt repository, signed by its key", filename="docker",
                               uris=["https://download.docker.com/linux/debian"], suites=["bookworm"],
                               components=["stable"], architectures=["amd64"],
                               signed_by="/etc/apt/keyrings/docker.gpg")
    """
    source = {"uris": uris, "suites": suites, "components": components,
              "architectures": architectures, "signed_by": signed_by}
    if source_listed(source):
        host.noop(f"the apt sources already list {' '.join(uris)} signed by {signed_by}")
        return
    text = signed_apt.deb822_source(uris, suites, components, architectures, signed_by)
    dest = signed_apt.sources_path(filename)
    yield from system.file_written(text, dest, "0644")


@operation()
def signing_key(key_url: str, keyring: str, fingerprint: str, fingerprint_key: str, url_key: str):
    """
    Store the repository key from ``key_url`` at ``keyring`` unless the keyring
    already holds the key ``fingerprint``. The download is checked with
    ``gpg --show-keys`` first: a key with another fingerprint fails the host
    with one line and nothing is stored.

    + key_url: where the mirror publishes its key
    + keyring: the keyring file a deb822 source names in Signed-By
    + fingerprint: the expected primary key fingerprint
    + fingerprint_key: the data key holding ``fingerprint`` (named in errors)
    + url_key: the data key holding the repository URL (named in errors)

    **Example:**

    .. code:: python

        signed_apt.signing_key(name="Fetch Docker's apt signing key and check its fingerprint",
                               key_url="https://download.docker.com/linux/debian/gpg",
                               keyring="/etc/apt/keyrings/docker.gpg",
                               fingerprint="9DC858229FC7DD38854AE2D88D81803C0EBFCD88",
                               fingerprint_key="docker_apt_key_fingerprint",
                               url_key="docker_apt_url")
    """
    if key_held(keyring, fingerprint):
        host.noop(f"{keyring} holds the key {signed_apt.normalise_fingerprint(fingerprint)}")
        return
    yield signed_apt.fetch_key(host.name, key_url, keyring, fingerprint, fingerprint_key, url_key)


@operation(is_idempotent=False)
def refreshed(source: dict, fingerprint: str, fingerprint_key: str, url_key: str, packages: list[str],
              changes: tuple = ()):
    """
    Run ``apt-get update`` when a package from the repository is not installed
    yet or its key or source changed, and only then; fail the host with one
    line naming the repository, the key and the fix when apt reports that the
    repository is not signed by it (NO_PUBKEY, BADSIG, "is not signed"), so no
    package step runs after it.

    While the run is planned (and under ``--dry``) the facts decide, the key
    and the source as ``signing_key`` and ``apt.sources_file`` decide. Once the
    run executes, the steps in ``changes`` have already run, so their results
    decide (with the packages, which nothing before this step installs).

    + source: the deb822 source as given to ``apt.sources_file``: ``uris`` (the
      repository URL first), ``suites``, ``components``, ``architectures`` and
      ``signed_by`` (the keyring)
    + fingerprint: the key expected in the keyring
    + fingerprint_key: the data key holding ``fingerprint``
    + url_key: the data key holding the repository URL
    + packages: the packages installed from it ("name" or "name=version")
    + changes: the operations that store the key and write the source

    **Example:**

    .. code:: python

        signed_apt.refreshed(name="Refresh apt for Docker's repository",
                             source={"uris": ["https://download.docker.com/linux/debian"],
                                     "suites": ["bookworm"], "components": ["stable"],
                                     "architectures": ["amd64"],
                                     "signed_by": "/etc/apt/keyrings/docker.gpg"},
                             fingerprint="9DC858229FC7DD38854AE2D88D81803C0EBFCD88",
                             fingerprint_key="docker_apt_key_fingerprint",
                             url_key="docker_apt_url", packages=["docker-ce"], changes=[key, source])
    """
    if host.state.is_executing:
        if not (packages_missing(read_fact(host, DebPackages) or {}, packages)
                or any(change.did_change() for change in changes)):
            host.noop("neither the key nor the source changed and its packages are installed")
            return
    elif not refresh_reasons(source, fingerprint, packages):
        host.noop(f"{source['signed_by']} holds the key, the source is listed and its packages are installed")
        return
    yield signed_apt.checked_update(host.name, source["uris"][0], source["signed_by"], fingerprint,
                                    fingerprint_key, url_key)
