"""Who is who in the cluster: each host's role, address and resolved data."""

import ipaddress
import os
import socket
from dataclasses import dataclass, field

from seedcore.defaults import ALL_DEFAULTS
from seedcore.gpu import gpu_image
from seedcore.pki import TlsFiles

HEAD_GROUP = "ray_head"
WORKER_GROUP = "ray_workers"
GPU_GROUP = "gpu"
# The host the deploy installs the GCS store (redis-server) on; not a Ray node.
GCS_STORE_GROUP = "ray_gcs_store"
# The host the deploy installs Prometheus on; it may also be a Ray node.
MONITORING_GROUP = "monitoring"


def settings_for(host) -> dict:
    """Every known data key for `host`: its own value, else the default."""
    return {key: host.data.get(key, default) for key, default in ALL_DEFAULTS.items()}


def role_of(host) -> str:
    groups = set(host.groups)
    if HEAD_GROUP in groups:
        return "head"
    if WORKER_GROUP in groups:
        return "worker"
    if GCS_STORE_GROUP in groups:
        return "store"
    if MONITORING_GROUP in groups:
        return "monitoring"
    return "none"


def ssh_address(host) -> str:
    return host.data.get("ssh_hostname") or host.name


def node_address(host) -> str:
    """The IP other Ray nodes and the control machine use to reach `host`."""
    explicit = host.data.get("ray_node_ip")
    if explicit:
        return explicit
    address = ssh_address(host)
    try:
        # An IP already: no lookup (under gevent, each one waits on a resolver thread).
        return str(ipaddress.ip_address(address))
    except ValueError:
        pass
    try:
        return socket.gethostbyname(address)
    except OSError:
        return address


def head_host(inventory):
    heads = list(inventory.get_group(HEAD_GROUP, []))
    return heads[0] if heads else None


def worker_hosts(inventory) -> list:
    return list(inventory.get_group(WORKER_GROUP, []))


def gcs_store_hosts(inventory) -> list:
    return list(inventory.get_group(GCS_STORE_GROUP, []))


def gcs_store_address(inventory) -> str:
    """Where the head's GCS keeps its tables ("host:port"), or "" when head fault
    tolerance is off: the Redis installed on the ray_gcs_store host, else the
    head's ray_gcs_store_address (an external Redis)."""
    stores = gcs_store_hosts(inventory)
    if stores:
        store = stores[0]
        return f"{node_address(store)}:{settings_for(store)['ray_gcs_store_port']}"
    head = head_host(inventory)
    return settings_for(head)["ray_gcs_store_address"] if head is not None else ""


def gcs_store_tls(inventory) -> bool:
    """Whether the GCS store speaks TLS only: the Redis the deploy installs on the
    ray_gcs_store host, with the cluster's tls_enabled (the head's) on. An
    external Redis (ray_gcs_store_address) is reached as before, plain."""
    head = head_host(inventory)
    return bool(gcs_store_hosts(inventory)) and head is not None and bool(settings_for(head)["tls_enabled"])


def store_tls(host, inventory) -> TlsFiles | None:
    """The GCS store host's TLS files (issued from the cluster's CA with its node
    address in the SAN, like a node's), or None when the store speaks plain Redis."""
    if not gcs_store_tls(inventory):
        return None
    return node_tls(host, head_host(inventory))


def gcs_store_password(host) -> str:
    """The GCS store's password from the control machine's environment ("" if unset:
    validation reports that before any change)."""
    return os.environ.get(settings_for(host)["ray_gcs_store_password_env"], "")


def monitoring_host(inventory):
    """The host in group `monitoring` (Prometheus), or None."""
    hosts = list(inventory.get_group(MONITORING_GROUP, []))
    return hosts[0] if hosts else None


def is_monitoring_host(host) -> bool:
    return MONITORING_GROUP in set(host.groups)


def prometheus_url(inventory) -> str:
    """Where the head's dashboard reaches Prometheus ("" without a monitoring host):
    its listen address, else the host's node address when it listens everywhere."""
    monitor = monitoring_host(inventory)
    if monitor is None:
        return ""
    s = settings_for(monitor)
    listen = s["monitoring_listen_host"]
    address = node_address(monitor) if listen in ("0.0.0.0", "::", "[::]") else listen
    return f"http://{address}:{s['monitoring_port']}"


@dataclass(frozen=True)
class Node:
    """One Ray node as the render functions see it."""

    name: str
    role: str
    address: str
    head_address: str
    settings: dict
    # GPUs Ray is told about; 0 on CPU hosts. gpu_mode: how Compose requests them.
    gpus: int = 0
    gpu_mode: str = "devices"
    # The head's GCS port: workers join the head on the head's own port.
    head_gcs_port: int = 6379
    # Values of ray_secret_env, read from the control machine's environment.
    secret_env: dict = field(default_factory=dict, repr=False)
    # Head fault tolerance: the GCS store's "host:port" ("" = off) and its password.
    gcs_store: str = ""
    gcs_store_password: str = field(default="", repr=False)
    # The store speaks TLS only (rediss://; the node's TLS files as Redis' client certificate).
    gcs_store_tls: bool = False
    # Ray nodes in the cluster (the head and every worker): one health replica each.
    cluster_size: int = 1
    # Monitoring (head only): RAY_PROMETHEUS_HOST and RAY_GRAFANA_HOST ("" = unset).
    prometheus_url: str = ""
    grafana_url: str = ""
    # Mutual TLS on Ray's gRPC: the CA certificate, the node's certificate and
    # key (None = off). The key never appears in a repr.
    tls: TlsFiles | None = field(default=None, repr=False)

    @property
    def image(self) -> str:
        return gpu_image(self.settings) if self.gpus else self.settings["ray_image"]

    @property
    def container(self) -> str:
        key = "ray_head_container" if self.role == "head" else "ray_worker_container"
        return self.settings[key]

    @property
    def compose_file(self) -> str:
        return "docker-compose.yml" if self.role == "head" else "ray-workers.yml"

    @property
    def gcs_address(self) -> str:
        port = self.settings["ray_gcs_port"] if self.role == "head" else self.head_gcs_port
        return f"{self.head_address}:{port}"


def is_gpu_host(host) -> bool:
    return GPU_GROUP in set(host.groups)


def node_for(host, inventory, gpus: int = 0, gpu_mode: str = "devices") -> Node:
    head = head_host(inventory)
    return Node(
        name=host.name,
        role=role_of(host),
        address=node_address(host),
        head_address=node_address(head) if head is not None else "",
        settings=settings_for(host),
        gpus=gpus,
        gpu_mode=gpu_mode,
        head_gcs_port=settings_for(head)["ray_gcs_port"] if head is not None else 6379,
        secret_env=secret_values(host),
        gcs_store=gcs_store_address(inventory) if head is not None else "",
        gcs_store_password=gcs_store_password(head) if head is not None and head.name == host.name else "",
        gcs_store_tls=gcs_store_tls(inventory),
        cluster_size=(1 if head is not None else 0) + len(worker_hosts(inventory)),
        prometheus_url=prometheus_url(inventory) if role_of(host) == "head" else "",
        grafana_url=settings_for(host)["monitoring_grafana_url"] if role_of(host) == "head" else "",
        tls=node_tls(host, head),
    )


def node_tls(host, head) -> TlsFiles | None:
    """The node's TLS files from the control machine's store (issued or renewed
    there when needed), or None when the head's tls_enabled is off. The
    cluster-wide keys (tls_enabled, tls_dir, tls_ca_cert, tls_ca_key) are the head's."""
    if head is None:
        return None
    cluster = settings_for(head)
    if not cluster["tls_enabled"]:
        return None
    # Imported here: only a run with TLS on pays for loading `cryptography`'s store code.
    from seedcore.tls_store import node_files

    own = settings_for(host)
    return node_files(cluster["tls_dir"], host.name, node_address(host), own["tls_cert_days"],
                      renew_days(own, role_of(host)), cluster["tls_ca_cert"], cluster["tls_ca_key"])


def renew_days(settings: dict, role: str) -> int:
    """When a node's certificate is issued again: under tls_renew_days days left for
    a worker, under half that for the head. Certificates issued together expire
    together; so the workers renew in earlier runs (one by one, or batch by batch
    with deploy/rollout.py) and the head, whose restart the workers follow
    without the GCS store, last and alone."""
    days = settings["tls_renew_days"]
    return max(1, days // 2) if role == "head" else days


def secret_values(host) -> dict:
    """ray_secret_env resolved from the environment; missing ones are left out
    (validation reports them before any change)."""
    mapping = host.data.get("ray_secret_env") or {}
    return {name: os.environ[source] for name, source in mapping.items() if source in os.environ}
