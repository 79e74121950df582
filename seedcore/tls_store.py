"""The cluster's CA and node keys, kept on the control machine in `tls_dir`.

    <tls_dir>/ca.key, ca.crt            the cluster's CA (made once, never renewed by a run)
    <tls_dir>/nodes/<host>.key, .crt    each node's key (made once) and certificate
    <tls_dir>/web/<host>.key, .crt      the web door's key and certificate on that host

Made on first use and reused: a second run reads the same files and changes
nothing. A node's certificate is issued again, with the same key, only when
`seedcore.pki.renewal_reason` says so (fewer than `tls_renew_days` left, a new
node address, another CA). With `tls_ca_cert` and `tls_ca_key` set, that CA
(the operators' own, e.g. an intermediate of their PKI) signs the node
certificates instead and nothing is written to `ca.*`. Keys are written
0600 in a 0700 directory, each file beside its destination then renamed
over it. Issuing holds `<tls_dir>/.lock` (an flock), so the hosts of one run
and two runs on one control machine never make two CAs or two keys for a node.
"""

import contextlib
import fcntl
import hashlib
import os
import re
import time
from pathlib import Path

import gevent

from seedcore import pki

# How long issuing waits for another issuer (a host of this run, or another run) to finish.
LOCK_WAIT_S = 60.0
_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,100}")


class TlsStoreError(Exception):
    """The CA or a node's files on the control machine cannot be used."""


def _write(path: Path, text: str, mode: int) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def issuing(tls_dir: str, wait_s: float | None = None):
    """Hold `<tls_dir>/.lock` while issuing; polled without blocking gevent's other hosts."""
    root = Path(tls_dir)
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    lock_path = root / ".lock"
    wait_s = LOCK_WAIT_S if wait_s is None else wait_s
    descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + wait_s
    try:
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise TlsStoreError(
                        f"waited {wait_s:g} s for {lock_path}, held by another run issuing "
                        "certificates on this control machine: let it finish, then run again") from None
                gevent.sleep(0.05)
        yield
    finally:
        os.close(descriptor)


def file_stem(host_name: str) -> str:
    """A file name for the host: its own name when safe, else a cleaned name and a digest."""
    if _SAFE.fullmatch(host_name) and host_name not in (".", ".."):
        return host_name
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", host_name)[:60].lstrip(".") or "host"
    return f"{cleaned}-{hashlib.sha256(host_name.encode()).hexdigest()[:12]}"


def cluster_ca(tls_dir: str, ca_cert_path: str = "", ca_key_path: str = "") -> tuple[str, str]:
    """(CA key PEM, CA certificate PEM): the operators' when both paths are given,
    else the cluster's own in `tls_dir`, made on first use."""
    if ca_cert_path or ca_key_path:
        if not (ca_cert_path and ca_key_path):
            raise TlsStoreError("tls_ca_cert and tls_ca_key go together: set both, or neither")
        try:
            return Path(ca_key_path).read_text(), Path(ca_cert_path).read_text()
        except OSError as error:
            raise TlsStoreError(f"cannot read the operators' CA: {error}") from None
    root = Path(tls_dir)
    key_path, cert_path = root / "ca.key", root / "ca.crt"
    if key_path.exists() and cert_path.exists():
        return key_path.read_text(), cert_path.read_text()
    if key_path.exists() or cert_path.exists():
        raise TlsStoreError(f"{root} holds only half of the CA (ca.key and ca.crt go together): "
                            "restore the missing file; a new CA would restart every node")
    key, cert = pki.make_ca(f"seedcore cluster CA ({root.resolve().name})")
    _write(key_path, key, 0o600)
    _write(cert_path, cert, 0o644)
    return key, cert


def node_paths(tls_dir: str, host_name: str, kind: str = "nodes") -> tuple[Path, Path]:
    """Where a host's certificate and key are on the control machine (`kind`:
    "nodes" for the node's own pair, "web" for its web door's)."""
    directory = Path(tls_dir) / kind
    stem = file_stem(host_name)
    return directory / f"{stem}.crt", directory / f"{stem}.key"


def node_files(tls_dir: str, host_name: str, address: str, cert_days: int, renew_days: int,
               ca_cert_path: str = "", ca_key_path: str = "") -> pki.TlsFiles:
    """The node's CA certificate, certificate and key; issued or renewed here when needed."""
    return _issued(tls_dir, "nodes", host_name, address, cert_days, renew_days, ca_cert_path, ca_key_path)


def web_files(tls_dir: str, host_name: str, address: str, cert_days: int, renew_days: int,
              ca_cert_path: str = "", ca_key_path: str = "") -> pki.TlsFiles:
    """The web door's certificate and key for a host (`<tls_dir>/web/`), from the same CA
    as the node certificates, kept and renewed as they are; apart from the node's own
    pair, so a host that runs no Ray node (the monitoring host) has one too."""
    return _issued(tls_dir, "web", host_name, address, cert_days, renew_days, ca_cert_path, ca_key_path)


def _issued(tls_dir: str, kind: str, host_name: str, address: str, cert_days: int, renew_days: int,
            ca_cert_path: str, ca_key_path: str) -> pki.TlsFiles:
    with issuing(tls_dir):
        ca_key, ca_cert = cluster_ca(tls_dir, ca_cert_path, ca_key_path)
        cert_path, key_path = node_paths(tls_dir, host_name, kind)
        if key_path.exists():
            key = key_path.read_text()
        else:
            key = pki.key_pem(pki.new_key())
            _write(key_path, key, 0o600)
        cert = cert_path.read_text() if cert_path.exists() else ""
        if not cert or pki.renewal_reason(cert, ca_cert, key, address, renew_days) is not None:
            cert = pki.issue_node_cert(ca_key, ca_cert, key, host_name, address, cert_days)
            _write(cert_path, cert, 0o644)
        return pki.TlsFiles(ca_cert=ca_cert, cert=cert, key=key)
