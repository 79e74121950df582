"""Every data key the deploys read, with its default.

`None` means "must be set": validation stops the run before any host is
touched when such a key has no value. The comment right above each key says
what it does: docs/data-keys.md is written from this file (`make docs`), and a
test fails when the two differ.
"""

# ---------------------------------------------------------------------------
# docker_: the Docker engine on every host (see [air-gapped sites](air-gapped.md) for a mirror).
# ---------------------------------------------------------------------------
DOCKER_DEFAULTS = {
    # `"docker"`: an apt repository in Docker's layout (Debian, Ubuntu); `"distro"`: the distribution's own
    # packages
    "docker_install_source": "docker",
    # Pin for the packages in `docker_pinned_packages` (e.g. `5:27.3.1-1~debian.12~bookworm`), which are then
    # held (`apt-mark hold`) so no apt upgrade moves them; a changed pin releases and holds them again; empty:
    # newest
    "docker_version": "",
    # Which of `docker_official_packages` `docker_version` pins (`["docker.io"]` for a mirror of Debian's
    # own build)
    "docker_pinned_packages": ["docker-ce", "docker-ce-cli"],
    # Base URL of an apt repository in Docker's layout (`/<distro>/gpg`,
    # `/<distro>/dists/<codename>/stable`)
    "docker_apt_url": "https://download.docker.com/linux",
    # Primary key fingerprint the key at `<docker_apt_url>/<distro>/gpg` must have before apt trusts it
    # (Docker's release key) (40 hex digits)
    "docker_apt_key_fingerprint": "9DC858229FC7DD38854AE2D88D81803C0EBFCD88",
    # Packages installed from that repository
    "docker_official_packages": [
        "docker-ce",
        "docker-ce-cli",
        "containerd.io",
        "docker-compose-plugin",
    ],
    # Packages installed with `docker_install_source: "distro"` (Ubuntu 22.04+: use `docker-compose-v2`)
    "docker_distro_packages": ["docker.io", "docker-compose"],
    # `daemon.json` log rotation: size of one container log file
    "docker_log_max_size": "50m",
    # `daemon.json` log rotation: files kept per container
    "docker_log_max_file": 5,
    # Registries pulled from over plain HTTP (`insecure-registries`)
    "docker_insecure_registries": [],
    # `registry-mirrors` in `daemon.json`
    "docker_registry_mirrors": [],
    # Further keys merged into `daemon.json`
    "docker_daemon_extra": {},
    # Free MiB needed under `/var/lib/docker` before the image is pulled (preflight)
    "docker_min_free_mb": 8192,
    # Seconds each `apt-get` waits for dpkg's lock while another apt holds it (apt-daily on a fresh host),
    # then fails the host naming apt
    "docker_apt_lock_wait_s": 300,
    # Times apt retries a failed download (`Acquire::Retries`)
    "docker_apt_retries": 3,
    # Registry to `docker login` to on every host; logged in again when the user or the password changed
    # (each host keeps a salted PBKDF2 digest of its last login in `/etc/seedcore/registry-logins/`, root
    # only; never the password); empty: no login
    "docker_registry_login": "",
    # User for that login
    "docker_registry_user": "",
    # The control machine's environment variable holding the password (never the password itself)
    "docker_registry_password_env": "SEEDCORE_REGISTRY_PASSWORD",
    # Users added to the `docker` group
    "docker_users": [],
}

# ---------------------------------------------------------------------------
# ray_: the Ray containers, their compose files and env (see [a run](cluster.md)); the GCS
# store's keys: see [head fault tolerance](head-fault-tolerance.md).
# ---------------------------------------------------------------------------
RAY_DEFAULTS = {
    # The Ray version every node must run; checked by verify and equal on all hosts
    "ray_version": "2.20.0",
    # Image reference with a tag, e.g. `registry.example.com/seedcore/ray:2.20.0`
    "ray_image": None,
    # Where the compose files, env and Serve files live on each host
    "ray_project_dir": "/opt/seedcore",
    # Compose project name (`-p`); its label finds leftover containers
    "ray_compose_project": "seedcore",
    # Name of the head container
    "ray_head_container": "seedcore-ray-head",
    # Name of a worker container
    "ray_worker_container": "seedcore-ray-worker",
    # Address other nodes and the control machine use for this host; empty: its SSH address, resolved
    "ray_node_ip": "",
    # GCS port on the head; workers join `<head>:<port>`
    "ray_gcs_port": 6379,
    # Dashboard bind address (no authentication of its own: people use the web door, see Safety)
    "ray_dashboard_host": "0.0.0.0",
    # Dashboard HTTP port
    "ray_dashboard_port": 8265,
    # Dashboard agent HTTP port on every node
    "ray_dashboard_agent_port": 52365,
    # Per-node Prometheus endpoint (`ray start --metrics-export-port`)
    "ray_metrics_export_port": 8080,
    # The dashboard's own metrics server (`DASHBOARD_METRIC_PORT`); must differ from the export port
    "ray_dashboard_metrics_port": 44227,
    # The raylet's node manager (`--node-manager-port`), every node
    "ray_node_manager_port": 8077,
    # The raylet's object manager (`--object-manager-port`), every node
    "ray_object_manager_port": 8076,
    # Lowest port of Ray's worker processes (tasks, actors, Serve replicas; `--min-worker-port`); the range
    # must hold no other pinned port
    "ray_min_worker_port": 10002,
    # Highest port of that range (`--max-worker-port`); one port per worker process
    "ray_max_worker_port": 19999,
    # The dashboard agent's gRPC port (`--dashboard-agent-grpc-port`), every node
    "ray_dashboard_agent_grpc_port": 8079,
    # The runtime-env agent's port (`--runtime-env-agent-port`), every node
    "ray_runtime_env_agent_port": 8078,
    # Ray Client on the head (`ray://head:PORT`, `--ray-client-server-port`); its per-session servers use
    # 23000-23999, fixed by Ray
    "ray_client_server_port": 10001,
    # The dashboard's gRPC port on the head (`--dashboard-grpc-port`)
    "ray_dashboard_grpc_port": 8266,
    # The autoscaler's metrics server on the head (`AUTOSCALER_METRIC_PORT`), scraped by Prometheus
    "ray_autoscaler_metrics_port": 44217,
    # Object store size; `shm_size` is set to 5/4 of it
    "ray_object_store_memory_mb": 2048,
    # CPUs Ray may schedule on; 0: all the host has
    "ray_num_cpus": 0,
    # Compose restart policy of the Ray containers
    "ray_restart_policy": "unless-stopped",
    # `ulimits: nofile` of the Ray containers (Ray warns under 4096)
    "ray_nofile_limit": 65536,
    # More `ray start` arguments
    "ray_start_extra_args": [],
    # Render `PYTHONASYNCIODEBUG=1`: CPython asyncio debug mode, slows every Ray worker; debugging only
    "ray_asyncio_debug": False,
    # The notes' variables, in every Ray container's environment (named in block 1 of the env file), kept
    # for the runbooks' greps; Ray 2.20.0 reads none (names: `[A-Za-z_][A-Za-z0-9_]*`; values: no newline,
    # carriage return or NUL)
    "ray_notes_env": {
        "RAY_DISABLE_METRICS_SERVER": "1",
        "RAY_METRICS_EXPORT_PORT": "8080",
        "RAY_DASHBOARD_METRICS_PORT": "8080",
        "RAY_SERVE_ASYNC_DEBUG": "1",
        "RAY_SERVE_CONTROLLER_HEARTBEAT_TIMEOUT_S": "30",
        "RAY_SERVE_PROXY_HEARTBEAT_TIMEOUT_S": "30",
    },
    # Extra environment for the Ray containers (not for secrets: data is committed) (names:
    # `[A-Za-z_][A-Za-z0-9_]*`; values: strings or numbers, no newline, carriage return or NUL)
    "ray_env": {},
    # Secret environment: container variable -> name of the control machine's environment variable holding
    # the value; written only to the root-only compose file's `environment:` (both names:
    # `[A-Za-z_][A-Za-z0-9_]*`; the value read must hold no newline, carriage return or NUL: refused without
    # being shown)
    "ray_secret_env": {},
    # Deadline for a started node to become healthy
    "ray_head_start_timeout_s": 180,
    # Bound on one try of `docker pull`; a try that has not finished by then is stopped, naming the image
    # and the bound
    "ray_pull_timeout_s": 1800,
    # How many times a failed or stopped pull is tried, 5 s, 10 s... apart, before the host fails
    "ray_pull_tries": 3,
    # Bound on each command run inside a Ray container: `serve deploy`, recording the deployed Serve config
    # in Ray's store, draining a worker
    "ray_command_timeout_s": 300,
    # Bound on copying one container's logs or its Ray session logs into the archive before it is removed
    "ray_archive_timeout_s": 600,
    # How many run folders of archives each host keeps under `<ray_project_dir>/archive` (the oldest go
    # first)
    "ray_archive_keep": 10,
    # The most MiB those archives take together (the oldest go first; the newest always stays); preflight
    # refuses a host with less free under `ray_project_dir`
    "ray_archive_max_mb": 2048,
    # Head fault tolerance with an external (managed or HA) Redis: its `host:port` (the head's value
    # counts); empty: a host in group `ray_gcs_store`, or off
    "ray_gcs_store_address": "",
    # Port of the Redis the deploy installs on the `ray_gcs_store` host
    "ray_gcs_store_port": 6379,
    # The control machine's environment variable holding the Redis password (never the password itself)
    "ray_gcs_store_password_env": "SEEDCORE_GCS_STORE_PASSWORD",
    # `RAY_external_storage_namespace`: the name of this cluster's tables in Redis; keep it stable
    "ray_gcs_store_namespace": "seedcore",
    # `RAY_gcs_rpc_server_reconnect_timeout_s`: how long every node waits for the GCS to come back; must
    # exceed `ray_head_start_timeout_s`
    "ray_gcs_reconnect_timeout_s": 600,
}

# ---------------------------------------------------------------------------
# serve_: Ray Serve.
# ---------------------------------------------------------------------------
SERVE_DEFAULTS = {
    # Serve proxy bind address
    "serve_http_host": "0.0.0.0",
    # Serve proxy port
    "serve_http_port": 8000,
    # Where Serve runs proxies
    "serve_proxy_location": "EveryNode",
    # `RAY_SERVE_PROXY_READY_CHECK_TIMEOUT_S` (Ray's default 5)
    "serve_proxy_ready_check_timeout_s": 30,
    # `RAY_SERVE_PROXY_HEALTH_CHECK_TIMEOUT_S` (Ray's default 10)
    "serve_proxy_health_check_timeout_s": 30,
    # `RAY_SERVE_PROXY_HEALTH_CHECK_PERIOD_S`
    "serve_proxy_health_check_period_s": 10,
    # Route of the shipped health application
    "serve_health_route": "/health",
    # More applications, each a mapping in `serve deploy` config form (`name`, `import_path`,
    # `route_prefix`, ...)
    "serve_applications": [],
}

# ---------------------------------------------------------------------------
# gpu_: hosts in the `gpu` group (NVIDIA); see [GPU hosts](gpu.md).
# ---------------------------------------------------------------------------
GPU_DEFAULTS = {
    # Image for hosts in `gpu`; empty: `ray_image`, with `-gpu` added to its tag unless the tag already
    # names a GPU build (`gpu`, `cuda`, `cu121`)
    "gpu_image": "",
    # GPUs a `gpu` host must have (preflight compares with `nvidia-smi`); 0: as many as detected
    "gpu_count": 0,
    # Pin for `nvidia-container-toolkit` (e.g. `1.17.3-1`); empty: newest
    "gpu_toolkit_version": "",
    # Base URL of NVIDIA's container toolkit apt repository (`/gpgkey`, `/stable/deb/<arch>`)
    "gpu_toolkit_apt_url": "https://nvidia.github.io/libnvidia-container",
    # Primary key fingerprint the key at `<gpu_toolkit_apt_url>/gpgkey` must have before apt trusts it
    # (NVIDIA's) (40 hex digits)
    "gpu_toolkit_key_fingerprint": "C95B321B61E88C1809C4F759DDCAE044F796ECB0",
}

# ---------------------------------------------------------------------------
# rollout_: `deploy/rollout.py` (staging, then prod); see [rollout](rollout.md).
# ---------------------------------------------------------------------------
ROLLOUT_DEFAULTS = {
    # Workers restarted together by `deploy/rollout.py`; the next batch waits until they are green
    "rollout_batch_size": 1,
    # `"staging"`: a green rollout records the release it verified; `"prod"`: a release staging has not
    # verified is refused
    "rollout_stage": "",
    # Where verified releases are recorded (relative to the repository; commit it so the team shares it)
    "rollout_record_dir": "rollout-records",
    # Let a prod rollout through the gate for one run (`--data rollout_allow_unverified=true`)
    "rollout_allow_unverified": False,
    # Deadline given to `ray drain-node` before a worker restarts
    "rollout_drain_deadline_s": 30,
    # How long a restarted batch has to be ALIVE and green before the rollout stops; a worker whose
    # container exited is red at once
    "rollout_batch_timeout_s": 240,
}

# ---------------------------------------------------------------------------
# verify_: the checks that end every run; see [verify](verify.md).
# ---------------------------------------------------------------------------
VERIFY_DEFAULTS = {
    # Deadline for each host's checks to turn green
    "verify_timeout_s": 240,
    # Where the JSON report is written on the control machine
    "verify_report_path": "reports/verify.json",
}

# ---------------------------------------------------------------------------
# monitoring_: Prometheus on the host in group `monitoring` (optional). Read from the host in
# group `monitoring` (`monitoring_grafana_url` from the head); see [monitoring](monitoring.md).
# ---------------------------------------------------------------------------
MONITORING_DEFAULTS = {
    # Address Prometheus listens on, on the monitoring host; `"0.0.0.0"`: every interface, and the head's
    # dashboard reaches it at the host's node address
    "monitoring_listen_host": "0.0.0.0",
    # Prometheus' port (`--web.listen-address`); must differ from the ports of a Ray node or GCS store on
    # the same host
    "monitoring_port": 9090,
    # How long Prometheus keeps samples (`--storage.tsdb.retention.time`)
    "monitoring_retention": "15d",
    # How often every target is scraped and the alert rules are evaluated
    "monitoring_scrape_interval": "15s",
    # A Grafana you run (e.g. `http://grafana.internal:3000`): the head's `RAY_GRAFANA_HOST`, so the
    # dashboard embeds its panels; empty: none
    "monitoring_grafana_url": "",
    # A Grafana dashboard provisioning directory on the monitoring host: Ray's dashboards are put there;
    # empty: none
    "monitoring_grafana_dashboards_dir": "",
    # Where Ray's Grafana dashboards are copied on the control machine
    "monitoring_dashboards_path": "reports/grafana",
}

# ---------------------------------------------------------------------------
# tls_: mutual TLS on Ray's gRPC (GCS, raylets, workers, Ray Client), and TLS between the head
# and the GCS store the deploy installs; see [security](security.md#mutual-tls). `tls_enabled`,
# `tls_dir`, `tls_ca_cert` and `tls_ca_key` are read from the head (one CA per cluster). Ray's
# TLS does not cover the dashboard's HTTP or Jobs API.
# ---------------------------------------------------------------------------
TLS_DEFAULTS = {
    # `RAY_USE_TLS=1` in every Ray container, with the cluster's CA and a certificate per node, and the GCS
    # store the deploy installs in TLS only (`rediss://` from the head); `false`: plain gRPC and plain Redis
    # (the head's value counts)
    "tls_enabled": True,
    # On the control machine, relative to where pyinfra runs: the CA (`ca.key`, `ca.crt`) and every node's
    # key and certificate (`nodes/<host>.key`, `.crt`), made once and reused; never committed
    # (`.gitignore`), back it up. `group_data/prod.py` and `staging.py` set their own
    "tls_dir": ".seedcore/tls/default",
    # The operators' own CA certificate (PEM, on the control machine): it signs the node certificates
    # instead of the CA in `tls_dir`; with `tls_ca_key`, both or neither
    "tls_ca_cert": "",
    # That CA's private key (PEM, unencrypted, on the control machine; never sent to a host)
    "tls_ca_key": "",
    # On every Ray node (root, 0700): `ca.crt`, `node.crt` (0644) and `node.key` (0600), mounted read-only
    # at the same path into the Ray container; on the GCS store host (root:redis 0750) the store's own,
    # root:redis 0640
    "tls_host_dir": "/etc/seedcore/tls",
    # Validity of a node certificate the deploy issues
    "tls_cert_days": 365,
    # A run issues a worker's certificate again (same key) when fewer days are left, the head's when fewer
    # than half; must be below `tls_cert_days`
    "tls_renew_days": 30,
    # Verify's `tls certificate` check is red when the certificate on the host has fewer days left; must be
    # below half of `tls_renew_days` (when the head renews)
    "tls_expiry_warn_days": 14,
}

# ---------------------------------------------------------------------------
# firewall_: the host firewall (nftables, table `inet seedcore`). Read on every host of the
# inventory; see [security](security.md#host-firewall).
# ---------------------------------------------------------------------------
FIREWALL_DEFAULTS = {
    # `true`: the deploy installs nftables and its own table `inet seedcore`, admitting each port it opens
    # only from its allow-list; `false`: the host's firewall is left alone (and ufw/firewalld are not
    # checked)
    "firewall_manage": True,
    # Addresses or networks (`192.0.2.10`, `10.0.0.0/8`, IPv6 alike; host bits clear) admitted to every
    # managed port of every host: operators, bastions, a load balancer. The cluster's own nodes need no
    # entry
    "firewall_allow_cidrs": [],
    # Addresses or networks admitted to Serve's HTTP port (`serve_http_port`) only; `[]`: Serve answers the
    # cluster (and `firewall_allow_cidrs`) only
    "firewall_serve_cidrs": [],
}

# ---------------------------------------------------------------------------
# web_: the web door, nginx from the distribution in front of the dashboard (on the head) and
# Prometheus (on the monitoring host): TLS and a password. Each door host reads its own values;
# see [security](security.md#the-web-door).
# ---------------------------------------------------------------------------
WEB_DEFAULTS = {
    # `true`: nginx (the distribution's) on the head and the monitoring host, HTTPS with a password in front
    # of the dashboard and Prometheus; `false`: nginx is left alone and people use the `ssh -L` line
    "web_manage": True,
    # The user name the door asks for
    "web_user": "seedcore",
    # The control machine's environment variable holding the door's password, at least 12 characters, one
    # line (never the password itself)
    "web_password_env": "SEEDCORE_WEB_PASSWORD",
    # The dashboard's door (HTTPS) on the head
    "web_dashboard_port": 8443,
    # Prometheus' door (HTTPS) on the monitoring host
    "web_prometheus_port": 9443,
    # Addresses or networks the firewall admits to the two door ports (the cluster always): every address by
    # default, since the door asks for the password; narrow it to your operators' networks where you can
    "web_cidrs": ["0.0.0.0/0", "::/0"],
    # The operators' own certificate for the doors (PEM, chain first the server's, on the control machine);
    # with `web_key`, both or neither; empty: a certificate per door host from the cluster's CA
    "web_cert": "",
    # That certificate's private key (PEM, unencrypted, on the control machine)
    "web_key": "",
}

# ---------------------------------------------------------------------------
# connection_: pyinfra's SSH connection to each host, while a run holds it.
# ---------------------------------------------------------------------------
CONNECTION_DEFAULTS = {
    # How often each host's SSH connection is asked for a new session while a run holds it (as OpenSSH's
    # `ServerAliveInterval`); a host running a long command still answers at once
    "connection_alive_interval_s": 15,
    # Asks in a row without an answer after which the host is given up: its connection is closed, the step
    # it hangs in fails naming it, and the run goes on or stops as for any failed host
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
# is changed; docs/data-keys.md states the same rules.
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
