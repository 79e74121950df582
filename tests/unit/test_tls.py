"""Mutual TLS: the certificates made on the control machine, what is rendered
from them, when a node is renewed, and what verify says of them."""

import dataclasses
import datetime
import ipaddress
import os
import stat
import subprocess
import sys

import gevent
import pytest
import yaml
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from pyinfra.api import Inventory

from seedcore import checks, pki, render, tls_store, validate
from seedcore.plan import plan_for
from seedcore.topology import node_for, renew_days, role_of, settings_for
from tests.harness import make_node

IMAGE = "registry.example.com/seedcore/ray:2.20.0"
NOW = datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC)


@pytest.fixture(scope="module")
def ca():
    return pki.make_ca("test CA", now=NOW)


def _node_cert(ca, address="10.0.0.11", days=365, now=NOW, key=None):
    ca_key, ca_cert = ca
    key = key or pki.key_pem(pki.new_key())
    return key, pki.issue_node_cert(ca_key, ca_cert, key, "worker-1", address, days, now=now)


# --------------------------------------------------------------------------- certificates


def test_node_certificate_names_the_node_and_the_local_names(ca):
    _, cert_text = _node_cert(ca)
    san = pki.load_cert(cert_text).extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("10.0.0.11"),
                                                       ipaddress.ip_address("127.0.0.1")]
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]


def test_a_host_name_address_goes_in_as_a_dns_name(ca):
    _, cert_text = _node_cert(ca, address="ray-head.internal")
    san = pki.load_cert(cert_text).extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["ray-head.internal", "localhost"]
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]


def test_node_certificate_validity_and_usage(ca):
    _, cert_text = _node_cert(ca, days=90)
    cert = pki.load_cert(cert_text)
    assert cert.not_valid_after_utc - NOW == datetime.timedelta(days=90)
    assert cert.not_valid_before_utc < NOW
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.key_encipherment and not usage.key_cert_sign
    extended = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    # Both ends of a gRPC connection present it.
    assert set(extended) == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
    assert round(pki.days_left(cert_text, NOW)) == 90


def test_the_ca_signed_it_and_no_other_ca_did(ca):
    key, cert_text = _node_cert(ca)
    # cryptography checks the signature with the CA's public key.
    pki.load_cert(cert_text).verify_directly_issued_by(pki.load_cert(ca[1]))
    assert pki.signed_by(cert_text, ca[1])
    assert not pki.signed_by(cert_text, pki.make_ca("another CA")[1])
    assert pki.matches_key(cert_text, key)
    assert not pki.matches_key(cert_text, pki.key_pem(pki.new_key()))


def test_the_ca_may_sign_node_certificates_only(ca):
    cert = pki.load_cert(ca[1])
    constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert constraints.ca and constraints.path_length == 0
    assert cert.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign


# --------------------------------------------------------------------------- renewal decision


def test_a_fitting_certificate_is_kept(ca):
    key, cert_text = _node_cert(ca)
    assert pki.renewal_reason(cert_text, ca[1], key, "10.0.0.11", 30, now=NOW) is None


@pytest.mark.parametrize("case, expected", [
    ("expiring", "days left, under tls_renew_days"),
    ("new address", "does not name the node's address 10.0.0.99"),
    ("other CA", "not signed by the cluster's CA"),
    ("other key", "does not match the node's key"),
    ("garbage", "cannot be read"),
])
def test_renewal_reasons(ca, case, expected):
    key, cert_text = _node_cert(ca)
    address, ca_cert, now = "10.0.0.11", ca[1], NOW
    if case == "expiring":
        now = NOW + datetime.timedelta(days=340)
    elif case == "new address":
        address = "10.0.0.99"
    elif case == "other CA":
        ca_cert = pki.make_ca("another CA")[1]
    elif case == "other key":
        key = pki.key_pem(pki.new_key())
    else:
        cert_text = "-----BEGIN CERTIFICATE-----\nnot one\n-----END CERTIFICATE-----\n"
    assert expected in pki.renewal_reason(cert_text, ca_cert, key, address, 30, now=now)


# --------------------------------------------------------------------------- the store on the control machine


def kept_files(root):
    """The store's files by path, without its lock file."""
    return {path: path.read_bytes() for path in root.rglob("*") if path.is_file() and path.name != ".lock"}


def test_store_is_made_once_and_read_back(tmp_path):
    first = tls_store.node_files(str(tmp_path), "worker-1", "10.0.0.11", 365, 30)
    files = kept_files(tmp_path)
    second = tls_store.node_files(str(tmp_path), "worker-1", "10.0.0.11", 365, 30)
    assert first == second
    assert kept_files(tmp_path) == files
    assert sorted(str(p.relative_to(tmp_path)) for p in files) == [
        "ca.crt", "ca.key", "nodes/worker-1.crt", "nodes/worker-1.key"]
    for secret in ("ca.key", "nodes/worker-1.key"):
        assert stat.S_IMODE(os.stat(tmp_path / secret).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "nodes").st_mode) == 0o700


def test_a_new_address_renews_the_certificate_with_the_same_key(tmp_path):
    first = tls_store.node_files(str(tmp_path), "worker-1", "10.0.0.11", 365, 30)
    moved = tls_store.node_files(str(tmp_path), "worker-1", "10.0.0.12", 365, 30)
    assert moved.key == first.key and moved.ca_cert == first.ca_cert
    assert moved.cert != first.cert
    assert pki.renewal_reason(moved.cert, moved.ca_cert, moved.key, "10.0.0.12", 30) is None


def test_a_certificate_inside_the_renewal_window_is_issued_again(tmp_path):
    old = tls_store.node_files(str(tmp_path), "worker-1", "10.0.0.11", 20, 10)
    renewed = tls_store.node_files(str(tmp_path), "worker-1", "10.0.0.11", 365, 30)
    assert renewed.cert != old.cert and renewed.key == old.key
    assert round(pki.days_left(renewed.cert)) == 365


def test_the_operators_ca_signs_and_nothing_is_written_beside_it(tmp_path):
    ca_key, ca_cert = pki.make_ca("operators' CA")
    (tmp_path / "op").mkdir()
    (tmp_path / "op" / "ca.pem").write_text(ca_cert)
    (tmp_path / "op" / "ca.key").write_text(ca_key)
    files = tls_store.node_files(str(tmp_path / "store"), "head-1", "10.0.0.10", 365, 30,
                                 str(tmp_path / "op" / "ca.pem"), str(tmp_path / "op" / "ca.key"))
    assert files.ca_cert == ca_cert and pki.signed_by(files.cert, ca_cert)
    assert not (tmp_path / "store" / "ca.key").exists()


def test_half_a_ca_is_refused_rather_than_replaced(tmp_path):
    tls_store.cluster_ca(str(tmp_path))
    (tmp_path / "ca.key").unlink()
    with pytest.raises(tls_store.TlsStoreError, match="only half of the CA"):
        tls_store.cluster_ca(str(tmp_path))


@pytest.mark.parametrize("name", ["../../etc/passwd", "@docker/ray:1", "a b;$(rm -rf /)", ".."])
def test_hostile_host_names_stay_inside_the_store(tmp_path, name):
    tls_store.node_files(str(tmp_path / "store"), name, "10.0.0.11", 365, 30)
    written = list(kept_files(tmp_path))
    assert all(p.parent in (tmp_path / "store", tmp_path / "store" / "nodes") for p in written)
    assert len(written) == 4


def test_hosts_issuing_at_once_share_one_ca(tmp_path, monkeypatch):
    make_ca = pki.make_ca

    def slow_make_ca(*args):
        gevent.sleep(0.01)  # as a slow disk would: the other hosts' greenlets run meanwhile
        return make_ca(*args)

    monkeypatch.setattr(pki, "make_ca", slow_make_ca)
    names = [f"worker-{number}" for number in range(8)]
    jobs = [gevent.spawn(tls_store.node_files, str(tmp_path), name, f"10.0.0.{number + 10}", 365, 30)
            for number, name in enumerate(names)]
    gevent.joinall(jobs, raise_error=True)
    ca_cert = (tmp_path / "ca.crt").read_text()
    assert all(job.value.ca_cert == ca_cert and pki.signed_by(job.value.cert, ca_cert) for job in jobs)


def test_another_run_holding_the_store_is_waited_for_then_named(tmp_path, monkeypatch):
    monkeypatch.setattr(tls_store, "LOCK_WAIT_S", 0.3)
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, os, sys, time\n"
        f"fd = os.open({str(tmp_path / '.lock')!r}, os.O_RDWR | os.O_CREAT, 0o600)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); time.sleep(30)")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(tls_store.TlsStoreError, match=r"waited 0.3 s for .*\.lock, held by another run"):
            tls_store.node_files(str(tmp_path), "worker-1", "10.0.0.11", 365, 30)
        assert not (tmp_path / "ca.key").exists()
    finally:
        holder.kill()
        holder.wait()
    assert tls_store.node_files(str(tmp_path), "worker-1", "10.0.0.11", 365, 30).cert


# --------------------------------------------------------------------------- rendering


def _tls_node(role="worker", cert="CERT-1", key="KEY-1", ca_cert="CA-1", settings=None):
    node = make_node(role=role, address="10.0.0.11" if role == "worker" else "10.0.0.10", settings=settings)
    return dataclasses.replace(node, tls=pki.TlsFiles(ca_cert=ca_cert, cert=cert, key=key))


def test_env_file_turns_tls_on_with_the_three_paths():
    text = render.env_file(_tls_node())
    lines = [line for line in text.splitlines() if line.startswith(("RAY_USE_TLS", "RAY_TLS_"))]
    assert lines == [
        "RAY_USE_TLS=1",
        "RAY_TLS_SERVER_CERT=/etc/seedcore/tls/node.crt",
        "RAY_TLS_SERVER_KEY=/etc/seedcore/tls/node.key",
        "RAY_TLS_CA_CERT=/etc/seedcore/tls/ca.crt",
    ]
    assert "KEY-1" not in text and "CERT-1" not in text


def test_tls_off_renders_nothing_of_it():
    node = make_node(role="worker", address="10.0.0.11")
    assert "TLS" not in render.env_file(node)
    assert len(yaml.safe_load(render.compose_file(node, "x"))["services"]["ray-worker"]["volumes"]) == 1


def test_compose_mounts_the_tls_directory_read_only():
    service = yaml.safe_load(render.compose_file(_tls_node(settings={"tls_host_dir": "/srv/pki"}), "x"))
    volumes = service["services"]["ray-worker"]["volumes"]
    assert "/srv/pki:/srv/pki:ro" in volumes
    assert "KEY-1" not in render.compose_file(_tls_node(), "x")


def test_the_digest_follows_the_certificates_not_the_key():
    base = render.config_hash(_tls_node())
    assert render.config_hash(_tls_node(key="KEY-2")) == base
    assert render.config_hash(_tls_node(cert="CERT-2")) != base
    assert render.config_hash(_tls_node(ca_cert="CA-2")) != base
    assert render.config_hash(make_node(role="worker", address="10.0.0.11")) != base


def test_the_key_is_not_in_a_nodes_repr():
    node = _tls_node(key="-----BEGIN PRIVATE KEY-----SECRET")
    assert "SECRET" not in repr(node) and "SECRET" not in repr(node.tls)


def _inventory(tmp_path, workers=("worker-1", "worker-2"), **data):
    hosts = [("head-1", {"ray_node_ip": "10.0.0.10"})] + [
        (name, {"ray_node_ip": f"10.0.0.{11 + i}"}) for i, name in enumerate(workers)]
    every = {"ray_image": IMAGE, "tls_dir": str(tmp_path / "tls"), **data}
    return Inventory((hosts, every), ray_head=([hosts[0]], {}), ray_workers=(hosts[1:], {}))


def test_a_renewed_worker_certificate_restarts_that_worker_only(tmp_path):
    inventory = _inventory(tmp_path)
    before = {h.name: plan_for(h, inventory).config_hash for h in inventory}
    (tmp_path / "tls" / "nodes" / "worker-2.crt").unlink()
    after = {h.name: plan_for(h, inventory).config_hash for h in inventory}
    assert [name for name in before if before[name] != after[name]] == ["worker-2"]


def test_workers_renew_before_the_head(tmp_path):
    """Certificates issued in one run expire together: at 20 days left the workers
    are issued new ones and the head keeps its own until under 15 (half of 30)."""
    inventory = _inventory(tmp_path, tls_cert_days=40)
    first = {h.name: node_for(h, inventory).tls.cert for h in inventory}
    for host in inventory:
        host.data.tls_cert_days = 365
    # 40-day certificates: 40 left, not under 30, so kept; pretend 20 are left.
    later = NOW + datetime.timedelta(days=20)
    renewed = {h.name: pki.renewal_reason(first[h.name], node_for(h, inventory).tls.ca_cert,
                                          node_for(h, inventory).tls.key, h.data.ray_node_ip,
                                          renew_days(settings_for(h), role_of(h)),
                                          now=pki.load_cert(first[h.name]).not_valid_before_utc
                                          + (later - NOW)) is not None
               for h in inventory}
    assert renewed == {"head-1": False, "worker-1": True, "worker-2": True}


def test_a_second_plan_changes_nothing(tmp_path):
    inventory = _inventory(tmp_path)
    def planned():
        return {h.name: (plan_for(h, inventory).config_hash, node_for(h, inventory).tls) for h in inventory}

    assert planned() == planned()


def test_the_heads_tls_enabled_counts_for_every_node(tmp_path):
    inventory = _inventory(tmp_path, tls_enabled=False)
    assert all(node_for(h, inventory).tls is None for h in inventory)
    assert not (tmp_path / "tls").exists()


# --------------------------------------------------------------------------- validation


@pytest.fixture
def _argv(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["pyinfra", "inventories/staging.py", "deploy/cluster.py"])


@pytest.mark.parametrize("data, expected", [
    ({"tls_renew_days": 400}, "tls_renew_days=400 is not below tls_cert_days=365"),
    ({"tls_expiry_warn_days": 15}, "tls_expiry_warn_days=15 is not below half of tls_renew_days=30"),
    ({"tls_cert_days": 1}, "tls_cert_days=1 is out of range"),
    ({"tls_host_dir": "/etc/tls dir; rm -rf /"}, "tls_host_dir"),
    ({"tls_host_dir": "relative/dir"}, "tls_host_dir"),
    ({"tls_dir": "$(touch /tmp/x)"}, "tls_dir"),
    ({"tls_ca_cert": "/nonexistent/ca.pem"}, "tls_ca_cert and tls_ca_key go together"),
    ({"tls_ca_cert": "/nonexistent/ca.pem", "tls_ca_key": "/nonexistent/ca.key"},
     "tls_ca_cert /nonexistent/ca.pem cannot be read"),
    ({"tls_enabled": "yes"}, "tls_enabled must be true/false"),
    ({"tls_renw_days": 3}, "did you mean tls_renew_days?"),
])
def test_bad_tls_values_are_refused(tmp_path, _argv, data, expected):
    problems = validate.check_inventory(_inventory(tmp_path, **data))
    assert any(expected in line for line in problems), problems


def test_defaults_pass(tmp_path, _argv):
    assert validate.check_inventory(_inventory(tmp_path)) == []
    assert settings_for(next(iter(_inventory(tmp_path))))["tls_enabled"] is True


# --------------------------------------------------------------------------- verify


def test_expiry_check_is_green_with_time_left(ca):
    _, cert_text = _node_cert(ca, days=90)
    result = checks.tls_expiry_result("h", cert_text, "/etc/seedcore/tls/node.crt", 14, now=NOW)
    assert result.ok and result.detail.startswith("90 days left (notAfter 2027-03-01")


def test_expiry_check_is_red_under_the_warning(ca):
    _, cert_text = _node_cert(ca, days=90)
    result = checks.tls_expiry_result("h", cert_text, "p", 14, now=NOW + datetime.timedelta(days=80))
    assert not result.ok and result.detail.startswith("10 days left")


@pytest.mark.parametrize("text, expected", [(None, "missing"), ("", "missing"), ("junk", "cannot be read")])
def test_expiry_check_is_red_without_a_certificate(text, expected):
    result = checks.tls_expiry_result("h", text, "/etc/seedcore/tls/node.crt", 14, now=NOW)
    assert not result.ok and expected in result.detail
