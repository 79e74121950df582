"""Operations for a signed apt repository: its key, checked against the
expected fingerprint before it is stored, and an `apt-get update` that stops
the host when the repository's signature does not verify. Each reads facts,
decides, and yields commands or calls ``host.noop``."""

from pyinfra import host
from pyinfra.api import operation

from deploy import signed_apt
from deploy.facts.apt import KeyringFingerprints


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
    expected = signed_apt.normalise_fingerprint(fingerprint)
    if expected in host.get_fact(KeyringFingerprints, path=keyring):
        host.noop(f"{keyring} holds the key {expected}")
        return
    yield signed_apt.fetch_key(host.name, key_url, keyring, fingerprint, fingerprint_key, url_key)


@operation(is_idempotent=False)
def refreshed(repo_url: str, keyring: str, fingerprint: str, fingerprint_key: str, url_key: str):
    """
    Run ``apt-get update``; fail the host with one line naming the repository,
    the key and the fix when apt reports that ``repo_url`` is not signed by it
    (NO_PUBKEY, BADSIG, "is not signed"), so no package step runs after it.
    Call it with ``_if`` for when the key or source changed.

    + repo_url: the repository URL as written in the source
    + keyring: the keyring the source names
    + fingerprint: the key expected in it
    + fingerprint_key: the data key holding ``fingerprint``
    + url_key: the data key holding the repository URL

    **Example:**

    .. code:: python

        signed_apt.refreshed(name="Refresh apt for Docker's repository",
                             repo_url="https://download.docker.com/linux/debian",
                             keyring="/etc/apt/keyrings/docker.gpg",
                             fingerprint="9DC858229FC7DD38854AE2D88D81803C0EBFCD88",
                             fingerprint_key="docker_apt_key_fingerprint",
                             url_key="docker_apt_url")
    """
    yield signed_apt.checked_update(host.name, repo_url, keyring, fingerprint, fingerprint_key, url_key)
