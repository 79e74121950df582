"""The web door's TLS, on the control machine: each door host's certificate and
key, and the client context verify trusts the doors with.

Without web_cert / web_key, every door host gets its own certificate from the
cluster's CA (the head's tls_dir, or the operators' CA in tls_ca_cert /
tls_ca_key), naming the host's node address, kept and renewed beside the node
certificates (seedcore/tls_store.py). With them, every door serves the
operators' certificate (chain) and key, and verify trusts the CAs this machine
trusts (its system store) as well as the cluster's.
"""

import ssl
from pathlib import Path

from seedcore.pki import TlsFiles
from seedcore.tls_session import client_context
from seedcore.topology import head_host, node_address, settings_for


class DoorTlsError(Exception):
    """The operators' certificate or key cannot be read on this machine."""


def _cluster(inventory) -> dict:
    head = head_host(inventory)
    return settings_for(head) if head is not None else {}


def cluster_ca_pem(inventory) -> str:
    """The cluster CA's certificate (made on first use, like the node certificates')."""
    # Imported here: only a run with a door pays for loading `cryptography`'s store code.
    from seedcore.tls_store import cluster_ca

    cluster = _cluster(inventory)
    return cluster_ca(cluster["tls_dir"], cluster["tls_ca_cert"], cluster["tls_ca_key"])[1]


def door_files(host, inventory) -> TlsFiles:
    """What `host`'s door serves: its certificate (chain) and key (PEM)."""
    own = settings_for(host)
    if own["web_cert"] or own["web_key"]:
        try:
            return TlsFiles(ca_cert="", cert=Path(own["web_cert"]).read_text(),
                            key=Path(own["web_key"]).read_text())
        except OSError as error:
            raise DoorTlsError(f"host {host.name}: cannot read the web door's certificate: {error}") from None
    from seedcore.tls_store import web_files

    cluster = _cluster(inventory)
    return web_files(cluster["tls_dir"], host.name, node_address(host), own["tls_cert_days"],
                     own["tls_renew_days"], cluster["tls_ca_cert"], cluster["tls_ca_key"])


def door_context(host, inventory) -> ssl.SSLContext:
    """A client context for `host`'s door: the cluster's CA, and with the operators'
    certificate also this machine's system CAs; the name checked is the node address."""
    context = client_context(cluster_ca_pem(inventory))
    if settings_for(host)["web_cert"]:
        context.load_default_certs(ssl.Purpose.SERVER_AUTH)
    return context
