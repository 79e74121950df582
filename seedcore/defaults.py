"""Every data key the deploys read, with its default.

`None` means "must be set": validation stops the run before any host is
touched when such a key has no value. The README's "Data keys" table lists
the same keys and defaults; a test keeps the two in step.
"""

# ---------------------------------------------------------------------------
# docker_: the Docker engine on every host
# ---------------------------------------------------------------------------
DOCKER_DEFAULTS = {
    # "docker" = Docker's official apt repository; "distro" = the distribution's
    # own docker.io + Compose packages.
    "docker_install_source": "docker",
    # Pin for the packages in docker_pinned_packages (e.g. "5:27.3.1-1~debian.12~bookworm"); "" = newest.
    "docker_version": "",
    # Which of docker_official_packages docker_version pins (["docker.io"] for a Debian-built mirror).
    "docker_pinned_packages": ["docker-ce", "docker-ce-cli"],
    # The repository in Docker's layout: <url>/<debian|ubuntu>/gpg and .../dists/<codename>/stable.
    "docker_apt_url": "https://download.docker.com/linux",
    # Primary key fingerprint the key at <docker_apt_url>/<distro>/gpg must have
    # before apt trusts it (Docker's own release key by default).
    "docker_apt_key_fingerprint": "9DC858229FC7DD38854AE2D88D81803C0EBFCD88",
    "docker_official_packages": [
        "docker-ce",
        "docker-ce-cli",
        "containerd.io",
        "docker-compose-plugin",
    ],
    "docker_distro_packages": ["docker.io", "docker-compose"],
    "docker_log_max_size": "50m",
    "docker_log_max_file": 5,
    "docker_insecure_registries": [],
    "docker_registry_mirrors": [],
    # Extra keys merged into /etc/docker/daemon.json.
    "docker_daemon_extra": {},
    # Free space needed under /var/lib/docker before pulling images.
    "docker_min_free_mb": 8192,
    # How long each apt-get waits for dpkg's lock held by another apt (apt-daily on a
    # fresh host) before it fails, and how many times apt retries a failed download.
    "docker_apt_lock_wait_s": 300,
    "docker_apt_retries": 3,
    # Registry login: the user, and the control machine's environment variable
    # holding the password (never the password itself). "" = no login.
    "docker_registry_login": "",
    "docker_registry_user": "",
    "docker_registry_password_env": "SEEDCORE_REGISTRY_PASSWORD",
    # Users added to the docker group.
    "docker_users": [],
}

# ---------------------------------------------------------------------------
# ray_: the Ray containers, their compose files and env
# ---------------------------------------------------------------------------
RAY_DEFAULTS = {
    "ray_version": "2.20.0",
    # Image reference with a tag, e.g. "registry.example.com/seedcore/ray:2.20.0".
    "ray_image": None,
    "ray_project_dir": "/opt/seedcore",
    "ray_compose_project": "seedcore",
    "ray_head_container": "seedcore-ray-head",
    "ray_worker_container": "seedcore-ray-worker",
    # Address other nodes use to reach this one; "" = the host's SSH address, resolved.
    "ray_node_ip": "",
    "ray_gcs_port": 6379,
    "ray_dashboard_host": "0.0.0.0",
    "ray_dashboard_port": 8265,
    "ray_dashboard_agent_port": 52365,
    # Per-node Prometheus endpoint (`ray start --metrics-export-port`).
    "ray_metrics_export_port": 8080,
    # The dashboard's own metrics server (DASHBOARD_METRIC_PORT); must differ from the above.
    "ray_dashboard_metrics_port": 44227,
    # Every other port Ray listens on, pinned (none random) so the firewall can name each.
    # The raylet's node manager (`--node-manager-port`) and object manager (`--object-manager-port`).
    "ray_node_manager_port": 8077,
    "ray_object_manager_port": 8076,
    # The ports Ray's worker processes (tasks, actors, Serve replicas) listen on, low to high.
    "ray_min_worker_port": 10002,
    "ray_max_worker_port": 19999,
    # The dashboard agent's gRPC port and the runtime-env agent's port (every node).
    "ray_dashboard_agent_grpc_port": 8079,
    "ray_runtime_env_agent_port": 8078,
    # Head only: Ray Client (`ray.init("ray://head:PORT")`), the dashboard's gRPC port, and the
    # autoscaler's metrics server (AUTOSCALER_METRIC_PORT).
    "ray_client_server_port": 10001,
    "ray_dashboard_grpc_port": 8266,
    "ray_autoscaler_metrics_port": 44217,
    "ray_object_store_memory_mb": 2048,
    # CPUs Ray may schedule on; 0 = all the host has.
    "ray_num_cpus": 0,
    "ray_restart_policy": "unless-stopped",
    "ray_nofile_limit": 65536,
    "ray_start_extra_args": [],
    # PYTHONASYNCIODEBUG=1 in every Ray process: slows every asyncio loop; debugging only.
    "ray_asyncio_debug": False,
    # The variables from the operators' fix notes: rendered for their runbooks' greps,
    # read by nothing in Ray 2.20.0.
    "ray_notes_env": {
        "RAY_DISABLE_METRICS_SERVER": "1",
        "RAY_METRICS_EXPORT_PORT": "8080",
        "RAY_DASHBOARD_METRICS_PORT": "8080",
        "RAY_SERVE_ASYNC_DEBUG": "1",
        "RAY_SERVE_CONTROLLER_HEARTBEAT_TIMEOUT_S": "30",
        "RAY_SERVE_PROXY_HEARTBEAT_TIMEOUT_S": "30",
    },
    # Extra environment for the Ray containers.
    "ray_env": {},
    # Secret environment: container variable -> the control machine's environment
    # variable holding its value (read at deploy time, never stored in data).
    "ray_secret_env": {},
    "ray_head_start_timeout_s": 180,
    # Bounds on the commands a run sends (each stops with one line naming what it waited on):
    # one try of `docker pull` and how many tries; a command inside a Ray container
    # (`serve deploy`, reading or recording Ray's store, draining a worker); copying a
    # container's logs and /tmp/ray into the archive.
    "ray_pull_timeout_s": 1800,
    "ray_pull_tries": 3,
    "ray_command_timeout_s": 300,
    "ray_archive_timeout_s": 600,
    # The archives kept under <ray_project_dir>/archive: the newest run folders, at most this
    # many and this many MiB together (the newest is always kept); preflight wants that much free.
    "ray_archive_keep": 10,
    "ray_archive_max_mb": 2048,
    # Head fault tolerance: the GCS keeps its tables in Redis. Either a host in group
    # ray_gcs_store (the deploy installs redis-server there) or an external Redis here
    # ("host:port"); "" with no such host = off.
    "ray_gcs_store_address": "",
    # Port of the Redis the deploy installs on the ray_gcs_store host.
    "ray_gcs_store_port": 6379,
    # The control machine's environment variable holding the Redis password.
    "ray_gcs_store_password_env": "SEEDCORE_GCS_STORE_PASSWORD",
    # RAY_external_storage_namespace: stable, so a restarted head finds its tables.
    "ray_gcs_store_namespace": "seedcore",
    # RAY_gcs_rpc_server_reconnect_timeout_s: how long nodes wait for a head to come back.
    "ray_gcs_reconnect_timeout_s": 600,
}

# ---------------------------------------------------------------------------
# serve_: Ray Serve
# ---------------------------------------------------------------------------
SERVE_DEFAULTS = {
    "serve_http_host": "0.0.0.0",
    "serve_http_port": 8000,
    "serve_proxy_location": "EveryNode",
    "serve_proxy_ready_check_timeout_s": 30,
    "serve_proxy_health_check_timeout_s": 30,
    "serve_proxy_health_check_period_s": 10,
    # Route of the shipped health application.
    "serve_health_route": "/health",
    # More applications, each a dict in `serve deploy` config form.
    "serve_applications": [],
}

# ---------------------------------------------------------------------------
# gpu_: hosts in the `gpu` group (NVIDIA)
# ---------------------------------------------------------------------------
GPU_DEFAULTS = {
    # Image for GPU hosts; "" = ray_image, with "-gpu" added to its tag unless
    # the tag already names a GPU build.
    "gpu_image": "",
    # GPUs the host must have; 0 = as many as nvidia-smi reports.
    "gpu_count": 0,
    # Pin for nvidia-container-toolkit (e.g. "1.17.3-1"); "" = newest.
    "gpu_toolkit_version": "",
    "gpu_toolkit_apt_url": "https://nvidia.github.io/libnvidia-container",
    # Primary key fingerprint the key at <gpu_toolkit_apt_url>/gpgkey must have (NVIDIA's).
    "gpu_toolkit_key_fingerprint": "C95B321B61E88C1809C4F759DDCAE044F796ECB0",
}

# ---------------------------------------------------------------------------
# rollout_: deploy/rollout.py (staging, then prod)
# ---------------------------------------------------------------------------
ROLLOUT_DEFAULTS = {
    # Workers restarted together; the next batch starts only once these are green.
    "rollout_batch_size": 1,
    # "staging" records what it verified; "prod" refuses what staging has not verified.
    "rollout_stage": "",
    # Where verified releases are recorded, relative to the repository: commit it.
    "rollout_record_dir": "rollout-records",
    # Override of the promotion gate, for one run: --data rollout_allow_unverified=true
    "rollout_allow_unverified": False,
    "rollout_drain_deadline_s": 30,
    "rollout_batch_timeout_s": 240,
}

# ---------------------------------------------------------------------------
# verify_: the checks that end every run
# ---------------------------------------------------------------------------
VERIFY_DEFAULTS = {
    "verify_timeout_s": 240,
    "verify_report_path": "reports/verify.json",
}

# ---------------------------------------------------------------------------
# monitoring_: Prometheus on the host in group `monitoring` (optional)
# ---------------------------------------------------------------------------
MONITORING_DEFAULTS = {
    # Address Prometheus listens on, on the monitoring host; "0.0.0.0" = every interface.
    "monitoring_listen_host": "0.0.0.0",
    "monitoring_port": 9090,
    # How long Prometheus keeps samples (a Prometheus duration: 15d, 12h, 4w).
    "monitoring_retention": "15d",
    # How often every target is scraped and the alert rules are evaluated.
    "monitoring_scrape_interval": "15s",
    # A Grafana the operators run (http://host:3000): the head's RAY_GRAFANA_HOST. "" = none.
    "monitoring_grafana_url": "",
    # Grafana's dashboard provisioning directory on the monitoring host: Ray's dashboards
    # are put there. "" = none (they are still copied to monitoring_dashboards_path).
    "monitoring_grafana_dashboards_dir": "",
    # Where Ray's own Grafana dashboards are copied on the control machine.
    "monitoring_dashboards_path": "reports/grafana",
}

# ---------------------------------------------------------------------------
# tls_: mutual TLS on Ray's gRPC (GCS, raylets, workers, Ray Client), and TLS
# between the head and the GCS store the deploy installs. The
# cluster-wide keys (tls_enabled, tls_dir, tls_ca_cert, tls_ca_key) are read
# from the head. Ray's TLS does not cover the dashboard's HTTP or Jobs API.
# ---------------------------------------------------------------------------
TLS_DEFAULTS = {
    # RAY_USE_TLS=1 with a cluster CA and a certificate per node; the GCS store in TLS only.
    "tls_enabled": True,
    # On the control machine (relative to where pyinfra runs): the CA and every
    # node's key and certificate, made once and reused. Keep it out of git, back it up.
    "tls_dir": ".seedcore/tls/default",
    # The operators' own CA (certificate and key, PEM, on the control machine)
    # signs the node certificates instead of the one in tls_dir; both or neither.
    "tls_ca_cert": "",
    "tls_ca_key": "",
    # On every host: the CA certificate, the node's certificate and key (root only),
    # mounted read-only at the same path into the Ray container (root and redis
    # only on the GCS store host).
    "tls_host_dir": "/etc/seedcore/tls",
    # Validity of a node certificate issued by the deploy.
    "tls_cert_days": 365,
    # A run issues a node's certificate again (same key) when fewer days are left.
    "tls_renew_days": 30,
    # Verify is red for a node whose certificate on its host has fewer days left.
    "tls_expiry_warn_days": 14,
}

# ---------------------------------------------------------------------------
# firewall_: the host firewall (nftables, table inet seedcore) on every host
# ---------------------------------------------------------------------------
FIREWALL_DEFAULTS = {
    # True: every port the cluster opens admits only the sources its allow-list names.
    # False: the deploy leaves the host's firewall alone (and preflight ignores ufw/firewalld).
    "firewall_manage": True,
    # Addresses or networks (CIDR) admitted to every managed port on every host: operators,
    # bastions, a load balancer. The cluster's own nodes are always admitted.
    "firewall_allow_cidrs": [],
    # Addresses or networks admitted to Serve's HTTP port only (serve_http_port); [] = the cluster
    # (and firewall_allow_cidrs) only.
    "firewall_serve_cidrs": [],
}

# ---------------------------------------------------------------------------
# web_: the web door, nginx from the distribution in front of the dashboard (on
# the head) and Prometheus (on the monitoring host): TLS and a password
# ---------------------------------------------------------------------------
WEB_DEFAULTS = {
    # True: nginx on the head and the monitoring host, the only way people reach the
    # dashboard and Prometheus from outside the cluster. False: nginx is left alone.
    "web_manage": True,
    # The user name people give; the password is in the control machine's environment
    # variable named by web_password_env (never in data).
    "web_user": "seedcore",
    "web_password_env": "SEEDCORE_WEB_PASSWORD",
    # The door's HTTPS port for the dashboard, on the head; for Prometheus, on the monitoring host.
    "web_dashboard_port": 8443,
    "web_prometheus_port": 9443,
    # Addresses or networks the firewall admits to the two door ports (plus the cluster):
    # everyone by default, since the door asks for the password.
    "web_cidrs": ["0.0.0.0/0", "::/0"],
    # The operators' own certificate (chain, PEM) and key, on the control machine, for every
    # door; both or neither. "" = a certificate per host from the cluster's CA (tls_dir).
    "web_cert": "",
    "web_key": "",
}

# ---------------------------------------------------------------------------
# connection_: pyinfra's SSH connection to each host, while a run holds it
# ---------------------------------------------------------------------------
CONNECTION_DEFAULTS = {
    # A host that stops answering mid-run (a frozen VM, a cut cable) is given up: every
    # interval its SSH connection is asked for a new session; after count_max asks in a row
    # without an answer the connection is closed, so the step it hangs in fails, naming it.
    "connection_alive_interval_s": 15,
    "connection_alive_count_max": 4,
}

ALL_DEFAULTS = {
    **DOCKER_DEFAULTS,
    **RAY_DEFAULTS,
    **SERVE_DEFAULTS,
    **GPU_DEFAULTS,
    **ROLLOUT_DEFAULTS,
    **VERIFY_DEFAULTS,
    **MONITORING_DEFAULTS,
    **TLS_DEFAULTS,
    **FIREWALL_DEFAULTS,
    **WEB_DEFAULTS,
    **CONNECTION_DEFAULTS,
}

# Types of the keys whose default is None.
REQUIRED_TYPES = {
    "ray_image": str,
}

# ---------------------------------------------------------------------------
# What each value may be. Validation reads these three tables (one mechanism,
# deploy.validate.check_rules) and refuses a value outside them before any host
# is changed; the README's data-keys table states the same rules.
# ---------------------------------------------------------------------------

# Numeric keys: (lowest, highest, what a value out of range would do; "" = "is
# out of range"). Every one has both bounds: a timeout of a billion seconds is a
# typo, not a wish.
PORT = (1, 65535, "")
RANGES = {
    "docker_log_max_file": (1, 100, ""),
    "docker_min_free_mb": (0, 10_000_000, ""),
    "docker_apt_lock_wait_s": (0, 3600, ""),
    "docker_apt_retries": (0, 20, ""),
    "ray_gcs_port": PORT,
    "ray_dashboard_port": PORT,
    "ray_dashboard_agent_port": PORT,
    "ray_metrics_export_port": PORT,
    "ray_dashboard_metrics_port": PORT,
    "ray_node_manager_port": PORT,
    "ray_object_manager_port": PORT,
    "ray_min_worker_port": PORT,
    "ray_max_worker_port": PORT,
    "ray_dashboard_agent_grpc_port": PORT,
    "ray_runtime_env_agent_port": PORT,
    "ray_client_server_port": PORT,
    "ray_dashboard_grpc_port": PORT,
    "ray_autoscaler_metrics_port": PORT,
    "ray_object_store_memory_mb": (1, 4_194_304, "leaves Ray no object store (and Compose no shm_size)"),
    "ray_num_cpus": (0, 4096, ""),
    "ray_nofile_limit": (1024, 1048576, ""),
    "ray_head_start_timeout_s": (1, 3600, ""),
    "ray_pull_timeout_s": (30, 86400, ""),
    "ray_pull_tries": (1, 10, ""),
    "ray_command_timeout_s": (10, 3600, ""),
    "ray_archive_timeout_s": (10, 7200, ""),
    "ray_archive_keep": (1, 1000, ""),
    "ray_archive_max_mb": (10, 1_000_000, ""),
    "ray_gcs_store_port": PORT,
    "ray_gcs_reconnect_timeout_s": (1, 86400, ""),
    "serve_http_port": PORT,
    "serve_proxy_ready_check_timeout_s": (1, 3600, ""),
    "serve_proxy_health_check_timeout_s": (1, 3600, ""),
    "serve_proxy_health_check_period_s": (1, 3600, ""),
    "gpu_count": (0, 64, ""),
    "rollout_batch_size": (1, 10_000, "would restart no worker"),
    "rollout_drain_deadline_s": (1, 3600, ""),
    "rollout_batch_timeout_s": (1, 86400, ""),
    "verify_timeout_s": (1, 3600, ""),
    "monitoring_port": PORT,
    "tls_cert_days": (2, 3650, ""),
    "tls_renew_days": (1, 3649, ""),
    "tls_expiry_warn_days": (1, 3649, ""),
    "connection_alive_interval_s": (1, 600, ""),
    "connection_alive_count_max": (1, 100, ""),
    "web_dashboard_port": PORT,
    "web_prometheus_port": PORT,
}

# String keys with a closed set of values.
CHOICES = {
    "docker_install_source": ("docker", "distro"),
    "ray_restart_policy": ("no", "always", "on-failure", "unless-stopped"),
    # Ray 2.20's serve.config.ProxyLocation.
    "serve_proxy_location": ("EveryNode", "HeadOnly", "Disabled"),
    "rollout_stage": ("", "staging", "prod"),
}

# String keys that reach a shell, a compose/env/apt file or a name Docker
# checks: (regular expression the whole value must match, the safe set in
# words). An empty value means "not set" where the default is empty.
IMAGE_REF = (r"[A-Za-z0-9][A-Za-z0-9._/:-]*(@sha256:[a-f0-9]{64})?",
             "an image reference: letters, digits and . _ / : - (or @sha256:<digest>)")
APT_VERSION = (r"[A-Za-z0-9][A-Za-z0-9.+~:_-]*", "an apt version: letters, digits and . + ~ : _ -")
APT_URL = (r"https?://[A-Za-z0-9._~:/%+-]+", "an http(s) URL of letters, digits and . _ ~ : / % + -")
ADDRESS = (r"[A-Za-z0-9][A-Za-z0-9.:-]*|\[[0-9A-Fa-f:.]+\]",
           "an IP address or host name: letters, digits and . : -")
ENV_NAME = (r"[A-Za-z_][A-Za-z0-9_]*", "an environment variable name: [A-Za-z_][A-Za-z0-9_]*")
# Docker's own rule for container names.
CONTAINER_NAME = (r"[a-zA-Z0-9][a-zA-Z0-9_.-]*", "[a-zA-Z0-9][a-zA-Z0-9_.-]* (Docker's container names)")
APT_PACKAGE = (r"[a-z0-9][a-z0-9.+-]*(=[A-Za-z0-9.+~:_-]+)?", "apt package names (optionally =version)")
CONTROL_PATH = (r"[A-Za-z0-9._/~-]+", "a path of letters, digits and . _ / ~ -")
# For a list key, every item must match.
PATTERNS = {
    "docker_version": APT_VERSION,
    "docker_official_packages": APT_PACKAGE,
    "docker_distro_packages": APT_PACKAGE,
    "docker_users": (r"[a-z_][a-z0-9_-]*", "user names: [a-z_][a-z0-9_-]*"),
    "docker_apt_url": APT_URL,
    "docker_log_max_size": (r"[1-9][0-9]*[kmg]?", "a size such as 50m: digits, then k, m or g"),
    "docker_registry_login": (r"[A-Za-z0-9][A-Za-z0-9.:/_-]*",
                              "a registry host[:port]: letters, digits and . : / _ -"),
    "docker_registry_user": (r"[A-Za-z0-9][A-Za-z0-9._@+-]*", "a user name: letters, digits and . _ @ + -"),
    "docker_registry_password_env": ENV_NAME,
    "ray_version": (r"[0-9]+\.[0-9]+\.[0-9]+[A-Za-z0-9.+-]*", "a version such as 2.20.0"),
    "ray_image": IMAGE_REF,
    "ray_project_dir": (r"(/[A-Za-z0-9._-]+)+",
                        "an absolute path of letters, digits and . _ - (no spaces, quotes or $)"),
    # Compose's own rule for project names.
    "ray_compose_project": (r"[a-z0-9][a-z0-9_-]*", "[a-z0-9][a-z0-9_-]* (Compose's project names)"),
    "ray_head_container": CONTAINER_NAME,
    "ray_worker_container": CONTAINER_NAME,
    "ray_node_ip": ADDRESS,
    "ray_dashboard_host": ADDRESS,
    "ray_gcs_store_address": (r"([A-Za-z0-9][A-Za-z0-9.-]*|\[[0-9A-Fa-f:.]+\]):[0-9]{1,5}",
                              "a Redis address host:port: letters, digits and . - then :port"),
    "ray_gcs_store_password_env": ENV_NAME,
    "ray_gcs_store_namespace": (r"[A-Za-z0-9_-]+", "a namespace of letters, digits and _ -"),
    "serve_http_host": ADDRESS,
    "serve_health_route": (r"/[A-Za-z0-9._~/-]*", "a route starting with / of letters, digits and . _ ~ / -"),
    "gpu_image": IMAGE_REF,
    "gpu_toolkit_version": APT_VERSION,
    "gpu_toolkit_apt_url": APT_URL,
    # monitoring_: the values reach Prometheus' command line, its YAML and the Ray env file.
    "monitoring_listen_host": ADDRESS,
    "monitoring_retention": (r"[1-9][0-9]*(ms|s|m|h|d|w|y)", "a Prometheus duration such as 15d, 12h or 4w"),
    "monitoring_scrape_interval": (r"[1-9][0-9]*(ms|s|m|h)", "a Prometheus duration such as 15s or 1m"),
    "monitoring_grafana_url": (r"https?://[A-Za-z0-9._~:/%+\[\]-]+",
                               "an http(s) URL of letters, digits and . _ ~ : / % + - [ ]"),
    "monitoring_grafana_dashboards_dir": (
        r"(/[A-Za-z0-9._-]+)+", "an absolute path of letters, digits and . _ - (no spaces, quotes or $)"),
    "monitoring_dashboards_path": (r"[A-Za-z0-9._/-]+", "a path of letters, digits and . _ / -"),
    # tls_: paths on the control machine, and the host directory Compose mounts.
    "tls_dir": CONTROL_PATH,
    "tls_ca_cert": CONTROL_PATH,
    "tls_ca_key": CONTROL_PATH,
    "tls_host_dir": (r"(/[A-Za-z0-9._-]+)+",
                     "an absolute path of letters, digits and . _ - (no spaces, quotes or $)"),
    # web_: the user name goes into nginx's password file (user:hash) and Basic auth, which
    # splits at the first colon.
    "web_user": (r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", "a user name of letters, digits and . _ - (no colon)"),
    "web_password_env": ENV_NAME,
    "web_cert": CONTROL_PATH,
    "web_key": CONTROL_PATH,
}

# Mapping keys whose entries become environment variables: names must be
# ENV_NAME; for ray_secret_env the values name control-machine variables too.
ENV_KEYS = ("ray_notes_env", "ray_env", "ray_secret_env")
