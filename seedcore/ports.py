"""Every TCP port a Ray node listens on, by role: the ports validation keeps
apart, preflight checks are free, and the firewall admits only the cluster to.

Each entry is (what it is, lowest port, highest port): one port or a range.
"""

from seedcore.topology import is_monitoring_host, role_of

# On every Ray node (head and workers), in the order clashes are reported.
WORKER_PORT_KEYS = (
    "ray_dashboard_agent_port",
    "ray_metrics_export_port",
    "serve_http_port",
    "ray_node_manager_port",
    "ray_object_manager_port",
    "ray_dashboard_agent_grpc_port",
    "ray_runtime_env_agent_port",
)
# The head's: its own ports, then every node's.
HEAD_PORT_KEYS = (
    "ray_gcs_port",
    "ray_dashboard_port",
    "ray_dashboard_agent_port",
    "ray_metrics_export_port",
    "ray_dashboard_metrics_port",
    "serve_http_port",
    "ray_node_manager_port",
    "ray_object_manager_port",
    "ray_dashboard_agent_grpc_port",
    "ray_runtime_env_agent_port",
    "ray_dashboard_grpc_port",
    "ray_client_server_port",
    "ray_autoscaler_metrics_port",
)

# Prometheus scrapes these: the monitoring host is admitted to them.
METRICS_PORT_KEYS = ("ray_metrics_export_port", "ray_dashboard_metrics_port", "ray_autoscaler_metrics_port")
# Serve's HTTP proxy: firewall_serve_cidrs are admitted to it.
SERVE_PORT_KEYS = ("serve_http_port",)

WORKER_RANGE = "ray_min_worker_port-ray_max_worker_port"
# Ray Client's per-session servers, on the head (Ray 2.20's client proxier picks
# from this range, fixed in its code: MIN/MAX_SPECIFIC_SERVER_PORT).
CLIENT_SESSION_RANGE = "Ray Client session servers"
CLIENT_SESSION_PORTS = (23000, 23999)


def port_keys(role: str) -> tuple[str, ...]:
    """The single-port data keys of a Ray node of this role."""
    return HEAD_PORT_KEYS if role == "head" else WORKER_PORT_KEYS


def node_ports(role: str, s: dict) -> list[tuple[str, int, int]]:
    """Every port a Ray node of this role listens on: (name, low, high)."""
    ports = [(key, s[key], s[key]) for key in port_keys(role)]
    ports.append((WORKER_RANGE, s["ray_min_worker_port"], s["ray_max_worker_port"]))
    if role == "head":
        ports.append((CLIENT_SESSION_RANGE, *CLIENT_SESSION_PORTS))
    return ports


def service_ports(host, s: dict) -> list[tuple[str, int, int]]:
    """Every port the deploy's services listen on at `host` (the web doors aside):
    its Ray node's, the GCS store's Redis, Prometheus."""
    role = role_of(host)
    entries = node_ports(role, s) if role in ("head", "worker") else []
    if role == "store":
        entries.append(("ray_gcs_store_port", s["ray_gcs_store_port"], s["ray_gcs_store_port"]))
    if is_monitoring_host(host):
        entries.append(("monitoring_port", s["monitoring_port"], s["monitoring_port"]))
    return entries


def overlaps(a: tuple[str, int, int], b: tuple[str, int, int]) -> bool:
    return a[1] <= b[2] and b[1] <= a[2]


def describe(entry: tuple[str, int, int]) -> str:
    name, low, high = entry
    return f"{name} ({low})" if low == high else f"{name} ({low}-{high})"
