"""The cluster's certificates for Ray's mutual TLS, made with `cryptography`.

Pure functions on PEM text: a CA, a node certificate signed by it (the
node's address, 127.0.0.1 and localhost in its SAN), and the questions the
deploy asks of a certificate (days left, does it still fit the node). Nothing
here reads or writes a file; `seedcore.tls_store` keeps them on the control
machine.
"""

import datetime
import ipaddress
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_DAYS = 3650
# Processes inside a node reach it locally too.
LOCAL_NAMES = ("localhost",)
LOCAL_IPS = ("127.0.0.1",)
# Signed a little in the past: a host whose clock is a few minutes behind still accepts it.
BACKDATE = datetime.timedelta(minutes=5)


@dataclass(frozen=True)
class TlsFiles:
    """What one node's host gets: the CA certificate, its own certificate and key (PEM)."""

    ca_cert: str
    cert: str
    key: str = field(repr=False)


def now_utc() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def key_pem(key) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def load_key(pem: str):
    return serialization.load_pem_private_key(pem.encode(), password=None)


def load_cert(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode())


def cert_pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _usage(sign_certificates: bool) -> x509.KeyUsage:
    """A CA's usage (sign certificates and CRLs), or a node's (sign its handshakes, agree on keys)."""
    return x509.KeyUsage(digital_signature=not sign_certificates, content_commitment=False,
                         key_encipherment=not sign_certificates, data_encipherment=False, key_agreement=False,
                         key_cert_sign=sign_certificates, crl_sign=sign_certificates, encipher_only=False,
                         decipher_only=False)


BOTH_ENDS = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH])


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "seedcore"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_ca(common_name: str, now: datetime.datetime | None = None, days: int = CA_DAYS) -> tuple[str, str]:
    """(CA key PEM, CA certificate PEM): a self-signed CA that may sign node certificates only."""
    now = now or now_utc()
    key = new_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name)).issuer_name(_name(common_name))
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE).not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(sign_certificates=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key_pem(key), cert_pem(cert)


def san_for(address: str) -> x509.SubjectAlternativeName:
    """The node's address (an IP, or a DNS name), then the local names."""
    entries: list[x509.GeneralName] = []
    ips = [address, *LOCAL_IPS]
    names = list(LOCAL_NAMES)
    try:
        ipaddress.ip_address(address)
    except ValueError:
        ips, names = list(LOCAL_IPS), [address, *LOCAL_NAMES]
    for ip in dict.fromkeys(ips):
        entries.append(x509.IPAddress(ipaddress.ip_address(ip)))
    entries += [x509.DNSName(name) for name in dict.fromkeys(names)]
    return x509.SubjectAlternativeName(entries)


def issue_node_cert(ca_key_pem: str, ca_cert_pem: str, node_key_pem: str, node_name: str, address: str,
                    days: int, now: datetime.datetime | None = None) -> str:
    """A node certificate (PEM) for `node_key_pem`'s public key, signed by the CA:
    good for both ends of a gRPC connection (serverAuth and clientAuth)."""
    now = now or now_utc()
    ca_key, ca_cert = load_key(ca_key_pem), load_cert(ca_cert_pem)
    public = load_key(node_key_pem).public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(node_name)).issuer_name(ca_cert.subject)
        .public_key(public).serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE).not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(sign_certificates=False), critical=True)
        .add_extension(BOTH_ENDS, critical=False)
        .add_extension(san_for(address), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return cert_pem(cert)


def days_left(cert_text: str, now: datetime.datetime | None = None) -> float:
    """Days until the certificate's notAfter (negative once it has expired)."""
    now = now or now_utc()
    return (load_cert(cert_text).not_valid_after_utc - now).total_seconds() / 86400


def signed_by(cert_text: str, ca_cert_text: str) -> bool:
    """Whether the CA's key signed this certificate."""
    try:
        load_cert(cert_text).verify_directly_issued_by(load_cert(ca_cert_text))
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def matches_key(cert_text: str, key_text: str) -> bool:
    public = load_key(key_text).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return public == load_cert(cert_text).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def renewal_reason(cert_text: str, ca_cert_text: str, key_text: str, address: str, renew_days: int,
                   now: datetime.datetime | None = None) -> str | None:
    """Why the node's certificate must be issued again, or None while it fits."""
    try:
        cert = load_cert(cert_text)
    except ValueError:
        return "the certificate cannot be read"
    if not signed_by(cert_text, ca_cert_text):
        return "it was not signed by the cluster's CA"
    if not matches_key(cert_text, key_text):
        return "it does not match the node's key"
    left = days_left(cert_text, now)
    if left < renew_days:
        return f"{left:.0f} days left, under tls_renew_days ({renew_days})"
    wanted = set(san_for(address))
    try:
        present = set(cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
    except x509.ExtensionNotFound:
        present = set()
    if wanted != present:
        return f"its SAN does not name the node's address {address} exactly"
    return None
