"""Operations for a signed apt repository: its key, checked against the
expected fingerprint before it is stored, and an `apt-get update` that stops
the host when the repository's signature does not verify. Each reads facts,
decides, and yields commands or calls ``host.noop``."""

from pyinfra import host
from pyinfra.api import operation
from pyinfra.facts.apt import AptSources
from pyinfra.facts.deb import DebPackages

from seedcore import commands, signed_apt
from seedcore.changes import after_change
from seedcore.facts.apt import KeyringFingerprints, packages_missing
from seedcore.hostfacts import read_fact
from seedcore.operations.secret_files import with_stdin
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
    yield with_stdin(commands.file_from_stdin(dest, "root", "root", "0644"), text)


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
def checked_update(source: dict, fingerprint: str, fingerprint_key: str, url_key: str):
    """
    Run ``apt-get update``; fail the host with one line naming the repository,
    the key and the fix when apt reports that the repository is not signed by
    it (NO_PUBKEY, BADSIG, "is not signed"), so no package step runs after it.

    + source: the deb822 source as given to ``apt.sources_file``: ``uris`` (the
      repository URL first), ``suites``, ``components``, ``architectures`` and
      ``signed_by`` (the keyring)
    + fingerprint: the key expected in the keyring
    + fingerprint_key: the data key holding ``fingerprint``
    + url_key: the data key holding the repository URL

    **Example:**

    .. code:: python

        signed_apt.checked_update(name="Refresh apt for Docker's repository",
                                  source={"uris": ["https://download.docker.com/linux/debian"],
                                          "suites": ["bookworm"], "components": ["stable"],
                                          "architectures": ["amd64"],
                                          "signed_by": "/etc/apt/keyrings/docker.gpg"},
                                  fingerprint="9DC858229FC7DD38854AE2D88D81803C0EBFCD88",
                                  fingerprint_key="docker_apt_key_fingerprint", url_key="docker_apt_url")
    """
    yield signed_apt.checked_update(host.name, source["uris"][0], source["signed_by"], fingerprint,
                                    fingerprint_key, url_key)


def refreshed(name: str, source: dict, fingerprint: str, fingerprint_key: str, url_key: str,
              packages: list[str], changes: tuple = ()):
    """``checked_update`` when a package from the repository is not installed
    yet (decided from the host's packages, as planned), or else only after one
    of the steps in ``changes`` (the key and the source) changed the host
    (seedcore/changes.py). Returns the operation (None: not needed)."""
    if packages_missing(read_fact(host, DebPackages) or {}, packages):
        changed = None
    elif not (changed := after_change(*changes)):
        return None
    return checked_update(name=name, source=source, fingerprint=fingerprint, fingerprint_key=fingerprint_key,
                          url_key=url_key, _if=changed)
