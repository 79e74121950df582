"""Head fault tolerance: the GCS store's keys, its Redis config, Ray's settings
for it, workers that no longer follow a head restart, and the store checks."""

import socket
import ssl
import sys
import threading

import pytest
import yaml
from pyinfra.api import Inventory

from seedcore import checks, commands, pki, render, validate
from seedcore.operations.ray import rendered_env
from seedcore.plan import plan_for
from seedcore.reach import FROM_CONTROL
from seedcore.tasks import compose
from seedcore.tls_session import client_context
from seedcore.topology import gcs_store_tls, node_for, settings_for, store_tls

IMAGE = "registry.example.com/seedcore/ray:2.20.0"
PASSWORD = 'pa ss"wo$rd'


@pytest.fixture(autouse=True)
def store_password(monkeypatch):
    monkeypatch.setenv("SEEDCORE_GCS_STORE_PASSWORD", PASSWORD)
    monkeypatch.setattr(sys, "argv", ["pyinfra", "inventories/staging.py", "deploy/cluster.py"])


def _inventory(store=True, head_data=None, store_data=None, external=""):
    hosts = [("head-1", {"ssh_hostname": "10.0.0.10", **(head_data or {})}),
             ("worker-1", {"ssh_hostname": "10.0.0.11"}),
             ("worker-2", {"ssh_hostname": "10.0.0.12"})]
    groups = {"ray_head": (["head-1"], {}), "ray_workers": (["worker-1", "worker-2"], {})}
    if store:
        hosts.append(("redis-1", {"ssh_hostname": "10.0.0.20", **(store_data or {})}))
        groups["ray_gcs_store"] = (["redis-1"], {})
    extra = {"ray_gcs_store_address": external} if external else {}
    return Inventory((hosts, {"ray_image": IMAGE, **extra}), **groups)


def _node(inventory, name):
    return node_for(inventory.get_host(name), inventory)


# --------------------------------------------------------------------------- Ray's settings

def test_head_env_names_the_store_and_a_stable_namespace_but_never_the_password():
    head = _node(_inventory(head_data={"tls_enabled": False}), "head-1")
    text = render.env_file(head)
    block = text.split("# --- Block 2")[1].splitlines()
    assert "RAY_REDIS_ADDRESS=10.0.0.20:6379" in block
    assert "RAY_external_storage_namespace=seedcore" in block
    assert "RAY_gcs_rpc_server_reconnect_timeout_s=600" in block
    assert PASSWORD not in text
    # Each setting is preceded by its comment.
    for key in ("RAY_REDIS_ADDRESS=", "RAY_external_storage_namespace=", "RAY_gcs_rpc_server_reconnect"):
        line = next(i for i, item in enumerate(block) if item.startswith(key))
        assert block[line - 1].startswith("#"), key


def _env_block(node) -> dict[str, str]:
    lines = render.env_file(node).split("# --- Block 2")[1].splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))


def test_with_tls_the_head_reaches_the_store_by_rediss_with_the_files_its_container_mounts():
    head = _node(_inventory(), "head-1")
    env = _env_block(head)
    assert env["RAY_REDIS_ADDRESS"] == "rediss://10.0.0.20:6379"
    files = [env["RAY_REDIS_CA_CERT"], env["RAY_REDIS_CLIENT_CERT"], env["RAY_REDIS_CLIENT_KEY"]]
    # The files the deploy writes on the head, in the order CA, certificate, key...
    assert files == compose.tls_files(head)
    # ...are those of Ray's own mutual TLS...
    assert files == [env["RAY_TLS_CA_CERT"], env["RAY_TLS_SERVER_CERT"], env["RAY_TLS_SERVER_KEY"]]
    # ...and the container sees them at the same path.
    service = yaml.safe_load(render.compose_file(head, "h"))["services"]["ray-head"]
    mounts = [volume.split(":") for volume in service["volumes"]]
    assert all(any(path.startswith(inside + "/") and outside == inside for outside, inside, *_ in mounts)
               for path in files), mounts
    assert PASSWORD not in render.env_file(head)


def test_with_tls_off_the_head_reaches_the_store_in_plain():
    env = _env_block(_node(_inventory(head_data={"tls_enabled": False}), "head-1"))
    assert env["RAY_REDIS_ADDRESS"] == "10.0.0.20:6379"
    assert not any(key.startswith("RAY_REDIS_C") for key in env)


def test_an_external_store_is_reached_as_given_even_with_tls_on():
    head = _node(_inventory(store=False, external="redis.internal:6380"), "head-1")
    assert head.tls is not None and not head.gcs_store_tls
    env = _env_block(head)
    assert env["RAY_REDIS_ADDRESS"] == "redis.internal:6380"
    assert not any(key.startswith("RAY_REDIS_C") for key in env)


def test_worker_env_only_waits_longer_for_the_gcs():
    worker = _node(_inventory(), "worker-1")
    text = render.env_file(worker)
    assert "RAY_gcs_rpc_server_reconnect_timeout_s=600\n" in text
    assert "RAY_REDIS_ADDRESS" not in text and "RAY_external_storage_namespace" not in text
    assert "SEEDCORE_GCS_STORE_PASSWORD" not in render.container_environment(worker)


def test_without_a_store_nothing_of_it_is_rendered():
    inventory = _inventory(store=False)
    for name in ("head-1", "worker-1"):
        node = _node(inventory, name)
        assert node.gcs_store == ""
        assert "gcs" not in render.env_file(node).lower()
        assert commands.ray_start_args(node)[:2] == ["ray", "start"]


def test_password_goes_only_in_the_head_compose_environment():
    head = _node(_inventory(), "head-1")
    service = yaml.safe_load(render.compose_file(head, "h"))["services"]["ray-head"]
    # Compose turns $$ back into $.
    assert service["environment"]["SEEDCORE_GCS_STORE_PASSWORD"] == PASSWORD.replace("$", "$$")
    assert rendered_env(head)["SEEDCORE_GCS_STORE_PASSWORD"] == PASSWORD


def test_head_command_hands_the_password_to_ray_start_from_its_environment():
    head = _node(_inventory(), "head-1")
    args = commands.ray_start_args(head)
    assert args[:4] == ["sh", "-c", 'exec "$@" --redis-password="$SEEDCORE_GCS_STORE_PASSWORD"', "ray-start"]
    assert args[4:7] == ["ray", "start", "--block"]
    assert PASSWORD not in " ".join(args)
    service = yaml.safe_load(render.compose_file(head, "h"))["services"]["ray-head"]
    assert service["command"][2] == 'exec "$$@" --redis-password="$$SEEDCORE_GCS_STORE_PASSWORD"'


def test_external_store_address_is_used_as_given():
    inventory = _inventory(store=False, external="redis.internal:6380")
    assert _node(inventory, "head-1").gcs_store == "redis.internal:6380"
    assert _node(inventory, "worker-2").gcs_store == "redis.internal:6380"


# --------------------------------------------------------------------------- rollout order

def test_with_the_store_a_head_change_leaves_workers_current():
    before = _inventory()
    after = _inventory(head_data={"ray_object_store_memory_mb": 4096})
    assert plan_for(before.get_host("head-1"), before).config_hash != \
        plan_for(after.get_host("head-1"), after).config_hash
    for name in ("worker-1", "worker-2"):
        plan = plan_for(after.get_host(name), after)
        assert plan.follow_head_hash == ""
        assert plan_for(before.get_host(name), before).config_hash == plan.config_hash


def test_without_the_store_workers_still_follow_the_head():
    inventory = _inventory(store=False)
    plan = plan_for(inventory.get_host("worker-1"), inventory)
    assert plan.follow_head_hash == plan.head_hash != ""


# --------------------------------------------------------------------------- Redis config

def test_redis_config_binds_the_private_address_requires_the_password_and_persists():
    text = render.redis_conf("10.0.0.20", 6379, 'a"b\\c')
    lines = text.splitlines()
    for line in ("bind 10.0.0.20", "port 6379", 'requirepass "a\\"b\\\\c"', "appendonly yes",
                 "appendfsync everysec", "supervised systemd", "maxmemory-policy noeviction"):
        assert line in lines, line
    assert not any(line.startswith("bind") and "0.0.0.0" in line for line in lines)


def _directives(text: str) -> dict[str, str]:
    pairs = [line.split(" ", 1) for line in text.splitlines() if line and not line.startswith("#")]
    return {key: value for key, value in pairs}


def test_with_tls_redis_speaks_tls_only_and_asks_clients_for_a_certificate():
    inventory = _inventory()
    store = inventory.get_host("redis-1")
    paths = render.tls_paths(settings_for(store))
    conf = _directives(render.redis_conf("10.0.0.20", 6379, PASSWORD, paths))
    assert conf["port"] == "0"  # no plain listener
    assert conf["tls-port"] == "6379" and conf["bind"] == "10.0.0.20"
    assert conf["tls-auth-clients"] == "yes"
    assert set(conf["tls-protocols"].strip('"').split()) == {"TLSv1.2", "TLSv1.3"}
    # The store's own files, as the store task writes them.
    assert [conf["tls-ca-cert-file"], conf["tls-cert-file"], conf["tls-key-file"]] == \
        render.tls_files(settings_for(store))
    assert conf["requirepass"] == '"pa ss\\"wo$rd"'


def test_the_store_certificate_names_the_store_and_comes_from_the_cluster_ca():
    inventory = _inventory()
    tls = store_tls(inventory.get_host("redis-1"), inventory)
    head = _node(inventory, "head-1")
    assert tls is not None and tls.ca_cert == head.tls.ca_cert
    assert pki.signed_by(tls.cert, tls.ca_cert) and pki.matches_key(tls.cert, tls.key)
    assert pki.renewal_reason(tls.cert, tls.ca_cert, tls.key, "10.0.0.20", 30) is None
    assert pki.renewal_reason(tls.cert, tls.ca_cert, tls.key, "10.0.0.99", 30) is not None


def test_without_tls_or_with_an_external_store_redis_stays_plain():
    plain = _inventory(head_data={"tls_enabled": False})
    assert store_tls(plain.get_host("redis-1"), plain) is None
    conf = _directives(render.redis_conf("10.0.0.20", 6379, PASSWORD))
    assert conf["port"] == "6379" and not any(key.startswith("tls-") for key in conf)
    assert not gcs_store_tls(_inventory(store=False, external="redis.internal:6380"))


# --------------------------------------------------------------------------- validation

def _problems(inventory):
    return validate.check_inventory(inventory)


def test_a_valid_store_inventory_passes():
    assert _problems(_inventory()) == []


def test_store_host_and_external_address_are_refused_together():
    problems = _problems(_inventory(external="redis.internal:6379"))
    assert problems == [
        "inventories/staging.py: host head-1: ray_gcs_store_address redis.internal:6379 is set and host "
        "redis-1 is in group ray_gcs_store: give exactly one GCS store (unset one of them)"
    ]


def test_store_password_must_be_set(monkeypatch):
    monkeypatch.delenv("SEEDCORE_GCS_STORE_PASSWORD")
    problems = _problems(_inventory(store=False, external="redis.internal:6379"))
    assert problems == [
        "inventories/staging.py: host head-1: the GCS store needs its password in "
        "$SEEDCORE_GCS_STORE_PASSWORD (ray_gcs_store_password_env): export it (from your secret store) "
        "before the run"
    ]


def test_store_host_running_a_ray_node_is_refused():
    inventory = Inventory(
        ([("head-1", {"ssh_hostname": "10.0.0.10"}), ("worker-1", {"ssh_hostname": "10.0.0.11"})],
         {"ray_image": IMAGE}),
        ray_head=(["head-1"], {}), ray_workers=(["worker-1"], {}), ray_gcs_store=(["worker-1"], {}),
    )
    assert _problems(inventory) == [
        "inventories/staging.py: host worker-1 is in group ray_gcs_store and runs a Ray node: the store "
        "must outlive the head, so give it a host of its own (remove it from ray_head, ray_workers and gpu)"
    ]


def test_two_store_hosts_are_refused():
    inventory = Inventory(
        ([("head-1", {"ssh_hostname": "10.0.0.10"}), ("r1", {"ssh_hostname": "10.0.0.21"}),
          ("r2", {"ssh_hostname": "10.0.0.22"})], {"ray_image": IMAGE}),
        ray_head=(["head-1"], {}), ray_gcs_store=(["r1", "r2"], {}),
    )
    assert _problems(inventory) == [
        "inventories/staging.py: 2 hosts in group ray_gcs_store (r1, r2): the GCS store is one Redis; "
        "keep one host there (or use an external HA Redis in ray_gcs_store_address)"
    ]


def test_reconnect_timeout_must_outlive_a_head_start():
    problems = _problems(_inventory(head_data={"ray_gcs_reconnect_timeout_s": 60}))
    assert problems == [
        "inventories/staging.py: host head-1: ray_gcs_reconnect_timeout_s=60 does not outlive a head start "
        "(ray_head_start_timeout_s=180): workers would exit before the head is back; raise it above 180"
    ]


def test_store_address_outside_its_safe_set_is_refused():
    problems = _problems(_inventory(store=False, external="redis.internal; rm -rf /"))
    assert any("ray_gcs_store_address 'redis.internal; rm -rf /' is not a Redis address host:port" in p
               for p in problems), problems


# --------------------------------------------------------------------------- store checks

def _resp_words(data: bytes) -> list[bytes]:
    """Every bulk string of a run of RESP commands, in order."""
    words, at = [], 0
    while at < len(data):
        line_end = data.index(b"\r\n", at)
        line = data[at:line_end]
        at = line_end + 2
        if line.startswith(b"$"):
            size = int(line[1:])
            words.append(data[at:at + size])
            at += size + 2
    return words


@pytest.fixture
def fake_redis():
    """A Redis speaking just enough RESP: AUTH with one password, PING, HLEN, QUIT."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    seen = []

    def serve():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            data = b""
            while data.count(b"QUIT") == 0:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
            words = _resp_words(data)
            seen.append(words)
            authed = words[:2] == [b"AUTH", PASSWORD.encode()]
            reply = b"+OK\r\n" if authed else b"-WRONGPASS invalid username-password pair\r\n"
            if authed and b"PING" in words:
                reply += b"+PONG\r\n"
            if authed and b"HLEN" in words:
                reply += b":80\r\n"
            conn.sendall(reply + b"+OK\r\n")
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    yield f"127.0.0.1:{server.getsockname()[1]}", seen
    server.close()


STORE_IP = "127.0.0.2"  # a loopback address that the local names in every certificate's SAN do not cover


def _issue(ca, name, address, directory):
    key = pki.key_pem(pki.new_key())
    cert = pki.issue_node_cert(ca[0], ca[1], key, name, address, 30)
    (directory / f"{name}.key").write_text(key)
    (directory / f"{name}.crt").write_text(cert)
    return str(directory / f"{name}.crt"), str(directory / f"{name}.key")


@pytest.fixture
def tls_redis(tmp_path):
    """A TLS-only Redis like the store's (a certificate of the cluster's CA, client
    certificates required), answering AUTH + PING; `serve_as` picks the address
    its certificate names."""
    ca = pki.make_ca("test cluster CA")
    head_files = _issue(ca, "head-1", "10.0.0.10", tmp_path)
    server = socket.socket()
    server.bind((STORE_IP, 0))
    server.listen()
    chosen = {}

    def serve():
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cadata=ca[1])
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_cert_chain(*chosen["files"])
        while True:
            try:
                raw, _ = server.accept()
            except OSError:
                return
            try:
                with context.wrap_socket(raw, server_side=True) as conn:
                    data = b""
                    while b"QUIT" not in data:
                        chunk = conn.recv(4096)
                        if not chunk:
                            break
                        data += chunk
                    authed = _resp_words(data)[:2] == [b"AUTH", PASSWORD.encode()]
                    conn.sendall((b"+OK\r\n+PONG\r\n" if authed else b"-WRONGPASS\r\n") + b"+OK\r\n")
            except (OSError, ssl.SSLError):
                raw.close()

    def serve_as(address):
        chosen["files"] = _issue(ca, "store", address, tmp_path)
        threading.Thread(target=serve, daemon=True).start()
        return f"{STORE_IP}:{server.getsockname()[1]}"

    yield serve_as, ca[1], head_files
    server.close()


def test_store_over_tls_answers_a_client_with_the_heads_certificate(tls_redis):
    serve_as, ca_cert, (cert, key) = tls_redis
    address = serve_as(STORE_IP)
    ok, detail = checks.probe_gcs_store(FROM_CONTROL, address, PASSWORD, client_context(ca_cert, cert, key))()
    assert (ok, detail) == (True, f"{address} (TLS) answered '+PONG'")


def test_store_over_tls_refuses_a_client_without_a_certificate_or_in_plain(tls_redis):
    serve_as, ca_cert, _ = tls_redis
    address = serve_as(STORE_IP)
    for tls in (client_context(ca_cert), None):
        probe = checks.probe_gcs_store(FROM_CONTROL, address, PASSWORD, tls)
        result = checks.poll("head-1", "gcs store", probe, 0)
        assert not result.ok and "PONG" not in result.detail, result.detail


def test_a_store_certificate_for_another_address_is_red(tls_redis):
    """Ray 2.20's Redis client accepts it (see README); verify's check does not."""
    serve_as, ca_cert, (cert, key) = tls_redis
    address = serve_as("10.0.0.99")
    result = checks.poll("head-1", "gcs store", checks.probe_gcs_store(
        FROM_CONTROL, address, PASSWORD, client_context(ca_cert, cert, key)), 0)
    assert not result.ok
    assert result.detail.startswith(f"Unreachable: TLS to {address} from the control machine failed: "
                                    "SSLCertVerificationError"), result.detail
    assert "IP address mismatch" in result.detail


def test_store_answers_ping_after_auth(fake_redis):
    address, seen = fake_redis
    assert checks.probe_gcs_store(FROM_CONTROL, address, PASSWORD)() == (True, f"{address} answered '+PONG'")
    assert seen[0] == [b"AUTH", PASSWORD.encode(), b"PING", b"QUIT"]


def test_store_with_another_password_is_red(fake_redis):
    address, _ = fake_redis
    result = checks.poll("head-1", "gcs store", checks.probe_gcs_store(FROM_CONTROL, address, "wrong"), 0)
    assert not result.ok
    assert result.detail.startswith("ValueError: AUTH answered '-WRONGPASS")


def test_gcs_tables_are_counted_in_the_namespace_hash(fake_redis):
    address, seen = fake_redis
    ok, detail = checks.probe_gcs_tables(FROM_CONTROL, address, PASSWORD, "seedcore")()
    assert (ok, detail) == (True, f"80 GCS entries under namespace seedcore in {address}")
    assert seen[0][2:4] == [b"HLEN", b"seedcore"]


def test_store_unreachable_is_red_not_a_crash():
    with socket.socket() as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        port = probe_socket.getsockname()[1]
    ok, detail = checks.probe_gcs_store(FROM_CONTROL, f"127.0.0.1:{port}", PASSWORD)()
    assert not ok
    assert detail.startswith(f"Unreachable: 127.0.0.1:{port} not reachable from the control machine")


def test_gcs_storage_type_is_green_only_for_redis():
    assert checks.gcs_storage_result("head-1", "StorageType::REDIS_PERSIST").ok
    memory = checks.gcs_storage_result("head-1", "StorageType::IN_MEMORY")
    assert not memory.ok
    assert memory.detail == "the GCS reports StorageType::IN_MEMORY; expected StorageType::REDIS_PERSIST"
    assert not checks.gcs_storage_result("head-1", "").ok


def test_store_and_head_read_the_password_from_one_variable(monkeypatch):
    monkeypatch.setenv("OTHER_PASSWORD", "x")
    problems = _problems(_inventory(store_data={"ray_gcs_store_password_env": "OTHER_PASSWORD"}))
    assert problems == [
        "inventories/staging.py: host redis-1: ray_gcs_store_password_env differs from the head's "
        "(OTHER_PASSWORD vs SEEDCORE_GCS_STORE_PASSWORD): Redis and the head would use different "
        "passwords; set it once in group_data"
    ]
