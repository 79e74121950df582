"""Pure functions that turn a node's data into the files put on its host."""

import hashlib
import json
from dataclasses import dataclass
from importlib import resources

import yaml

from seedcore.commands import GCS_STORE_PASSWORD_VAR, ray_start_args
from seedcore.gpu import NVIDIA_RUNTIME
from seedcore.topology import Node

MANAGED_LABEL = "io.seedcore.managed-by"
MANAGED_VALUE = "seedcore-deploy"
HASH_LABEL = "io.seedcore.config-hash"
ROLE_LABEL = "io.seedcore.role"
ENV_FILE = "ray.env"
SERVE_CONFIG = "serve.yaml"
SERVE_DIR = "serve"
HEALTH_APP = "seedcore_health.py"
ROUTE_CHECK = "seedcore_route_check.py"
# Where the project's serve directory (the health app, serve.yaml) appears
# inside the Ray containers; it is on their PYTHONPATH.
CONTAINER_SERVE_DIR = "/srv/seedcore/serve"
HEALTH_APP_NAME = "seedcore-health"


def container_serve_config() -> str:
    """Where the Serve config is inside the head's container (what `serve deploy` reads)."""
    return f"{CONTAINER_SERVE_DIR}/{SERVE_CONFIG}"


def health_app_source() -> str:
    return resources.files("seedcore.apps").joinpath(HEALTH_APP).read_text()


def route_check_source() -> str:
    return resources.files("seedcore.apps").joinpath(ROUTE_CHECK).read_text()


def env_file(node: Node) -> str:
    """The Ray containers' env file, with the two blocks of Ray fixes apart."""
    s = node.settings
    lines = [
        "# Managed by the seedcore deploy; edits here are overwritten.",
        "",
        "# --- Block 1: variables from the operators' Ray 2.20.0 fix notes -----------",
        "# Kept because the runbooks grep the container's env for them. Ray 2.20.0 reads",
        "# NONE of them: they neither disable nor move any metrics server and change no",
        "# Serve timeout. They are in the compose file's environment: mapping (ray_notes_env),",
        "# escaped as YAML, so a value with quotes, `#` or `$` reaches the container as written:",
    ]
    lines += [f"#   {key}" for key in s["ray_notes_env"]]
    if s["ray_asyncio_debug"]:
        lines += [
            "# ray_asyncio_debug is on: CPython's asyncio debug mode in every Ray process.",
            "# It slows every event loop and fixes nothing; switch it off after debugging.",
            "PYTHONASYNCIODEBUG=1",
        ]
    else:
        lines.append("# PYTHONASYNCIODEBUG is left out: it only slows every worker (ray_asyncio_debug).")
    lines += [
        "",
        "# --- Block 2: settings Ray 2.20.0 really reads ------------------------------",
        "# The dashboard's own metrics server, kept apart from the per-node",
        "# --metrics-export-port: their clash is the 'Address already in use' error.",
        f"DASHBOARD_METRIC_PORT={s['ray_dashboard_metrics_port']}",
        "# The autoscaler's metrics server (head), pinned like every port Ray opens.",
        f"AUTOSCALER_METRIC_PORT={s['ray_autoscaler_metrics_port']}",
        "# Serve proxy checks get time to answer on a slow start, so the controller's",
        "# 'assert not dest.done()' race (fixed upstream in Ray 2.56) is not triggered.",
        f"RAY_SERVE_PROXY_READY_CHECK_TIMEOUT_S={s['serve_proxy_ready_check_timeout_s']}",
        f"RAY_SERVE_PROXY_HEALTH_CHECK_TIMEOUT_S={s['serve_proxy_health_check_timeout_s']}",
        f"RAY_SERVE_PROXY_HEALTH_CHECK_PERIOD_S={s['serve_proxy_health_check_period_s']}",
        "# Drivers attach to the running cluster instead of starting a second one.",
        f"RAY_ADDRESS={node.gcs_address}",
        "RAY_USAGE_STATS_ENABLED=0",
        f"PYTHONPATH={CONTAINER_SERVE_DIR}",
    ]
    lines += gcs_store_env(node)
    lines += monitoring_env(node)
    lines += tls_env(node)
    if s["ray_notes_env"] or s["ray_env"] or node.secret_env:
        lines += [
            "",
            "# ray_notes_env, ray_env and ray_secret_env are in the compose file's environment: mapping,",
            "# which Compose v1 and v2 read alike whatever the values hold.",
        ]
    return "\n".join(lines) + "\n"


TLS_CA_CERT = "ca.crt"
TLS_CERT = "node.crt"
TLS_KEY = "node.key"


def tls_paths(settings: dict) -> dict[str, str]:
    """Where a node's TLS files are, on its host and (mounted at the same path) in its container."""
    base = settings["tls_host_dir"]
    return {"ca": f"{base}/{TLS_CA_CERT}", "cert": f"{base}/{TLS_CERT}", "key": f"{base}/{TLS_KEY}"}


def tls_files(settings: dict) -> list[str]:
    """The CA certificate, the certificate and the key, in that order."""
    paths = tls_paths(settings)
    return [paths["ca"], paths["cert"], paths["key"]]


def tls_env(node: Node) -> list[str]:
    """Mutual TLS on Ray's gRPC (none while it is off): every Ray process, and every
    `docker exec` into the container (it inherits this env), uses these files."""
    if node.tls is None:
        return []
    paths = tls_paths(node.settings)
    return [
        "# Mutual TLS on Ray's gRPC between nodes and processes, Ray Client included (tls_enabled).",
        "# Not covered by it: the dashboard's HTTP and Jobs API (8265) and Serve's HTTP.",
        "RAY_USE_TLS=1",
        f"RAY_TLS_SERVER_CERT={paths['cert']}",
        f"RAY_TLS_SERVER_KEY={paths['key']}",
        f"RAY_TLS_CA_CERT={paths['ca']}",
    ]


def tls_digest(node: Node) -> str:
    """What, of the TLS files, needs the node restarted when it changes: the CA
    certificate and the node's certificate (a renewed certificate keeps its key).
    Ray's processes read them when they start."""
    if node.tls is None:
        return ""
    return hashlib.sha256((node.tls.ca_cert + node.tls.cert).encode()).hexdigest()


def monitoring_env(node: Node) -> list[str]:
    """The head's dashboard reads its metrics views from Prometheus (and embeds Grafana)."""
    lines = []
    if node.prometheus_url:
        lines += ["# The dashboard's metrics views query the monitoring host's Prometheus.",
                  f"RAY_PROMETHEUS_HOST={node.prometheus_url}"]
    if node.grafana_url:
        lines += ["# The dashboard embeds this Grafana's panels (monitoring_grafana_url).",
                  f"RAY_GRAFANA_HOST={node.grafana_url}"]
    return lines


def gcs_store_address_env(node: Node) -> list[str]:
    """Where the head's GCS finds the store; with the store on TLS, the rediss://
    scheme and the files Ray 2.20's Redis client reads (the node's own, mounted
    in its container): `ray start --head` (the session name) and the GCS both connect."""
    if not node.gcs_store_tls:
        return ["# The Redis the head's GCS writes to (ray start --head reads it).",
                f"RAY_REDIS_ADDRESS={node.gcs_store}"]
    paths = tls_paths(node.settings)
    return [
        "# The Redis the head's GCS writes to (ray start --head reads it), TLS only: the",
        "# store shows a certificate of the cluster's CA and asks for this node's.",
        f"RAY_REDIS_ADDRESS=rediss://{node.gcs_store}",
        f"RAY_REDIS_CA_CERT={paths['ca']}",
        f"RAY_REDIS_CLIENT_CERT={paths['cert']}",
        f"RAY_REDIS_CLIENT_KEY={paths['key']}",
    ]


def gcs_store_env(node: Node) -> list[str]:
    """Block 2's head fault tolerance lines (none while it is off)."""
    if not node.gcs_store:
        return []
    s = node.settings
    lines = [
        "# Head fault tolerance: the GCS keeps its tables in Redis, so a restarted head",
        "# finds the cluster (nodes, actors, Serve's state) where it left it.",
        "# How long every node waits for the GCS to come back before its raylet exits",
        "# (Ray's default 60 s); it must outlive a head restart or a head host rebuild.",
        f"RAY_gcs_rpc_server_reconnect_timeout_s={s['ray_gcs_reconnect_timeout_s']}",
    ]
    if node.role == "head":
        lines += gcs_store_address_env(node)
        lines += [
            "# The key prefix of this cluster's tables in Redis: stable, or a restarted head",
            "# would start an empty cluster beside the old one's tables.",
            f"RAY_external_storage_namespace={s['ray_gcs_store_namespace']}",
            f"# The password is {GCS_STORE_PASSWORD_VAR}, in the compose file's environment: mapping;",
            "# the container's command hands it to `ray start --redis-password`.",
        ]
    return lines


class DoubleQuoted(str):
    """A string YAML writes double-quoted: never read back as a number, bool or null."""


class ComposeDumper(yaml.SafeDumper):
    """yaml.safe_dump, with DoubleQuoted values written in double quotes."""


ComposeDumper.add_representer(
    DoubleQuoted, lambda dumper, value: dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"'),
)


def container_environment(node: Node) -> dict[str, str]:
    """ray_notes_env, then ray_env (which may override a note's variable), then the secrets
    (ray_secret_env's values): what the container must see."""
    environment = {str(key): str(value) for key, value in node.settings["ray_notes_env"].items()}
    environment.update((str(key), str(value)) for key, value in node.settings["ray_env"].items())
    environment.update(sorted(node.secret_env.items()))
    if node.gcs_store and node.role == "head":
        environment[GCS_STORE_PASSWORD_VAR] = node.gcs_store_password
    return environment


def compose_environment(environment: dict[str, str]) -> dict[str, str]:
    """The compose file's `environment:` mapping for these exact values.

    Compose v1 (python-dotenv) and v2 (compose-go) parse env files differently
    (quotes, `#`, `$`, backslashes), but read a YAML mapping alike: YAML escapes
    what needs escaping (yaml.safe_dump) and both turn `$$` back into `$` after
    interpolating the file. Each value is double-quoted: unquoted, `1e3` is a
    string to v1 (YAML 1.1) but the number 1000 to v2 (YAML 1.2). Newlines and
    NUL are refused in validation.
    """
    return {key: DoubleQuoted(value.replace("$", "$$")) for key, value in environment.items()}


def shm_size_mb(settings: dict) -> int:
    """/dev/shm sized for the object store plus a quarter of headroom."""
    return settings["ray_object_store_memory_mb"] * 5 // 4


def health_probe_url(node: Node) -> str:
    """What the node's health check asks, on the host's network: the head's GCS
    health, a worker's metrics (served once its raylet runs)."""
    s = node.settings
    if node.role == "head":
        return f"http://127.0.0.1:{int(s['ray_dashboard_port'])}/api/gcs_healthz"
    return f"http://127.0.0.1:{int(s['ray_metrics_export_port'])}/metrics"


def healthcheck(node: Node) -> dict:
    probe = f"import urllib.request; urllib.request.urlopen('{health_probe_url(node)}', timeout=5)"
    return {
        "test": ["CMD", "python", "-c", probe],
        "interval": "5s",
        "timeout": "10s",
        "retries": 6,
        "start_period": "60s",
    }


def compose_service(node: Node, config_hash: str) -> dict:
    """The one service of the node's compose file, as Compose reads it (values keep
    Compose's `$$` for a literal `$`)."""
    s = node.settings
    project_dir = s["ray_project_dir"]
    service = {
        "image": node.image,
        "container_name": node.container,
        "network_mode": "host",
        "restart": s["ray_restart_policy"],
        "shm_size": f"{shm_size_mb(s)}m",
        "ulimits": {"nofile": {"soft": s["ray_nofile_limit"], "hard": s["ray_nofile_limit"]}},
        "env_file": [ENV_FILE],
        "volumes": [f"{project_dir}/{SERVE_DIR}:{CONTAINER_SERVE_DIR}:ro"] + (
            [f"{s['tls_host_dir']}:{s['tls_host_dir']}:ro"] if node.tls is not None else []),
        # Compose interpolates `$` in the command too: `$$` keeps it literal.
        "command": [arg.replace("$", "$$") for arg in ray_start_args(node)],
        "healthcheck": healthcheck(node),
        "labels": {
            MANAGED_LABEL: MANAGED_VALUE,
            ROLE_LABEL: node.role,
            HASH_LABEL: config_hash,
        },
    }
    environment = compose_environment(container_environment(node))
    if node.gpus and node.gpu_mode == "runtime":
        service["runtime"] = "nvidia"
        environment = {"NVIDIA_VISIBLE_DEVICES": "all", **environment}
    elif node.gpus:
        service["deploy"] = {"resources": {"reservations": {"devices": [
            {"driver": "nvidia", "count": node.gpus, "capabilities": ["gpu"]},
        ]}}}
    if environment:
        service["environment"] = environment
    if node.role == "head":
        service["profiles"] = ["ray"]
    return service


def compose_file(node: Node, config_hash: str) -> str:
    name = "ray-head" if node.role == "head" else "ray-worker"
    document = {"services": {name: compose_service(node, config_hash)}}
    header = "# Managed by the seedcore deploy; edits here are overwritten.\n"
    return header + yaml.dump(document, Dumper=ComposeDumper, sort_keys=False, default_flow_style=False)


def config_hash(node: Node, head_hash: str = "") -> str:
    """A digest of everything that, changed, needs this node's container recreated.

    Without head fault tolerance a worker's digest includes the head's (the
    caller passes it), so a head restart restarts its workers in order instead
    of leaving them to find a new GCS on their own. With it, workers reconnect
    to the restarted head by themselves and the caller passes "".
    """
    material = {
        "env": env_file(node),
        "compose": compose_file(node, ""),
        "app": health_app_source(),
        "head": head_hash,
    }
    if node.tls is not None:
        material["tls"] = tls_digest(node)
    digest = hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()
    return digest[:16]


HEALTH_DEPLOYMENT = "Health"


def serve_config(settings: dict, nodes: int = 1) -> str:
    """The declarative Serve config given to `serve deploy` on the head.

    The health application runs one replica per Ray node (`nodes`; the app caps
    it at one per node), and Serve runs a proxy on every node that holds a
    replica: every node answers on its own address, and a proxy routes to its
    own node's replica first, so a worker keeps answering while the head is away.
    """
    health = {
        "name": HEALTH_APP_NAME,
        "route_prefix": settings["serve_health_route"],
        "import_path": "seedcore_health:app",
        "deployments": [{"name": HEALTH_DEPLOYMENT, "num_replicas": max(1, int(nodes))}],
    }
    document = {
        "proxy_location": settings["serve_proxy_location"],
        "http_options": {
            "host": settings["serve_http_host"],
            "port": settings["serve_http_port"],
        },
        "applications": [health, *settings["serve_applications"]],
    }
    header = "# Managed by the seedcore deploy; edits here are overwritten.\n"
    return header + yaml.safe_dump(document, sort_keys=False, default_flow_style=False)


def serve_config_digest(settings: dict, nodes: int = 1) -> str:
    """The digest of the Serve config, recorded on the head once it is deployed."""
    return hashlib.sha256(serve_config(settings, nodes).encode()).hexdigest()[:16]


def daemon_json(settings: dict, gpu: bool = False) -> str:
    """/etc/docker/daemon.json: log rotation, registries, the NVIDIA runtime on
    GPU hosts (the entry `nvidia-ctk runtime configure` writes), then extra keys."""
    document = {
        "log-driver": "json-file",
        "log-opts": {
            "max-size": settings["docker_log_max_size"],
            "max-file": str(settings["docker_log_max_file"]),
        },
    }
    if settings["docker_insecure_registries"]:
        document["insecure-registries"] = list(settings["docker_insecure_registries"])
    if settings["docker_registry_mirrors"]:
        document["registry-mirrors"] = list(settings["docker_registry_mirrors"])
    if gpu:
        document["runtimes"] = dict(NVIDIA_RUNTIME)
    document.update(settings["docker_daemon_extra"])
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def redis_conf(bind_address: str, port: int, password: str, tls: dict[str, str] | None = None) -> str:
    """The Redis config of the GCS store the deploy installs (at its family's
    layout.store_config; its Redis unit starts Redis with it, supervised by systemd).

    Bound to the store host's private address only; password required; both
    persistence modes on, so a restarted store still holds the cluster's GCS
    tables. The password is written as a double-quoted Redis string. With
    `tls` (the store's CA, certificate and key paths, as `tls_paths` gives
    them), Redis speaks TLS 1.2+ only on `port` and asks every client for a
    certificate of the cluster's CA; the plain port is closed.
    """
    quoted = '"' + password.replace("\\", "\\\\").replace('"', '\\"') + '"'
    lines = [
        "# Managed by the seedcore deploy; edits here are overwritten.",
        "# The GCS store of the SeedCore Ray cluster (head fault tolerance).",
        f"bind {bind_address}",
    ]
    if tls is None:
        lines.append(f"port {int(port)}")
    else:
        lines += [
            "# TLS only: no plain port; clients show a certificate of the cluster's CA.",
            "port 0",
            f"tls-port {int(port)}",
            f"tls-cert-file {tls['cert']}",
            f"tls-key-file {tls['key']}",
            f"tls-ca-cert-file {tls['ca']}",
            "tls-auth-clients yes",
            'tls-protocols "TLSv1.2 TLSv1.3"',
        ]
    lines += [
        "protected-mode yes",
        f"requirepass {quoted}",
        "daemonize no",
        "supervised systemd",
        "pidfile /run/redis/redis-server.pid",
        "logfile /var/log/redis/redis-server.log",
        "dir /var/lib/redis",
        "# Persistence: the append-only file (fsync every second) and snapshots.",
        "appendonly yes",
        "appendfsync everysec",
        "save 3600 1 300 100 60 10000",
        "# Ray's GCS needs every key it writes: never evict.",
        "maxmemory-policy noeviction",
    ]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class ProjectFile:
    """A file of the node's compose project on its host; `key` names it for callers
    ("env", "compose", "health_app", "route_check", "serve_config")."""

    key: str
    path: str
    text: str
    what: str
    # Root only (0600) and never shown: it may hold secrets.
    secret: bool = False

    @property
    def mode(self) -> str:
        return "0600" if self.secret else "0644"


def project_files(node: Node, config_hash: str) -> list[ProjectFile]:
    """Every file of the node's compose project, in the order they are written: the env
    file, the compose file, the Serve health app, and on the head the Serve route check
    and config for the whole cluster (the TLS files are `tls_paths`)."""
    project_dir = node.settings["ray_project_dir"]
    serve_dir = f"{project_dir}/{SERVE_DIR}"
    files = [
        ProjectFile("env", f"{project_dir}/{ENV_FILE}", env_file(node), "the Ray env file", secret=True),
        ProjectFile("compose", f"{project_dir}/{node.compose_file}", compose_file(node, config_hash),
                    "the node's compose file", secret=True),
        ProjectFile("health_app", f"{serve_dir}/{HEALTH_APP}", health_app_source(),
                    "the Serve health application"),
    ]
    if node.role == "head":
        files += [
            ProjectFile("route_check", f"{serve_dir}/{ROUTE_CHECK}", route_check_source(),
                        "the Serve route check"),
            ProjectFile("serve_config", f"{serve_dir}/{SERVE_CONFIG}",
                        serve_config(node.settings, node.cluster_size), "the Serve config"),
        ]
    return files
