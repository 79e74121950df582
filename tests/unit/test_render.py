"""The files put on each host: env file, compose file, Serve config, daemon.json."""

import json

import pytest
import yaml

from seedcore import render
from seedcore.defaults import RAY_DEFAULTS
from tests.harness import DEFAULT_IMAGE, make_node

NOTES = RAY_DEFAULTS["ray_notes_env"]

# Every port Ray would otherwise choose at random, pinned (seedcore/ports.py).
PINNED = ["--node-manager-port=8077", "--object-manager-port=8076", "--min-worker-port=10002",
          "--max-worker-port=19999", "--dashboard-agent-grpc-port=8079", "--runtime-env-agent-port=8078"]


def _env_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def _env(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in _env_lines(text))


def _blocks(text: str) -> tuple[str, str]:
    """(block 1, block 2 and after) of the env file."""
    start_1 = text.index("# --- Block 1")
    start_2 = text.index("# --- Block 2")
    assert start_1 < start_2, "block 1 must come before block 2"
    return text[start_1:start_2], text[start_2:]


def _service(node, config_hash="0123456789abcdef") -> dict:
    document = yaml.safe_load(render.compose_file(node, config_hash))
    (service,) = document["services"].values()
    return service


# --------------------------------------------------------------------------- env file

HEAD_ENV_FILE = """\
# Managed by the seedcore deploy; edits here are overwritten.

# --- Block 1: variables from the operators' Ray 2.20.0 fix notes -----------
# Kept because the runbooks grep the container's env for them. Ray 2.20.0 reads
# NONE of them: they neither disable nor move any metrics server and change no
# Serve timeout. They are in the compose file's environment: mapping (ray_notes_env),
# escaped as YAML, so a value with quotes, `#` or `$` reaches the container as written:
#   RAY_DISABLE_METRICS_SERVER
#   RAY_METRICS_EXPORT_PORT
#   RAY_DASHBOARD_METRICS_PORT
#   RAY_SERVE_ASYNC_DEBUG
#   RAY_SERVE_CONTROLLER_HEARTBEAT_TIMEOUT_S
#   RAY_SERVE_PROXY_HEARTBEAT_TIMEOUT_S
# PYTHONASYNCIODEBUG is left out: it only slows every worker (ray_asyncio_debug).

# --- Block 2: settings Ray 2.20.0 really reads ------------------------------
# The dashboard's own metrics server, kept apart from the per-node
# --metrics-export-port: their clash is the 'Address already in use' error.
DASHBOARD_METRIC_PORT=44227
# The autoscaler's metrics server (head), pinned like every port Ray opens.
AUTOSCALER_METRIC_PORT=44217
# Serve proxy checks get time to answer on a slow start, so the controller's
# 'assert not dest.done()' race (fixed upstream in Ray 2.56) is not triggered.
RAY_SERVE_PROXY_READY_CHECK_TIMEOUT_S=30
RAY_SERVE_PROXY_HEALTH_CHECK_TIMEOUT_S=30
RAY_SERVE_PROXY_HEALTH_CHECK_PERIOD_S=10
# Drivers attach to the running cluster instead of starting a second one.
RAY_ADDRESS=10.0.0.10:6379
RAY_USAGE_STATS_ENABLED=0
PYTHONPATH=/srv/seedcore/serve

# ray_notes_env, ray_env and ray_secret_env are in the compose file's environment: mapping,
# which Compose v1 and v2 read alike whatever the values hold.
"""


def test_env_file_has_both_blocks_in_order_with_their_comments(head_node):
    assert render.env_file(head_node) == HEAD_ENV_FILE


def test_block_1_names_exactly_the_notes_variables_the_container_gets(head_node):
    block_1, _ = _blocks(render.env_file(head_node))
    assert _env_lines(block_1) == []
    assert [line[4:] for line in block_1.splitlines() if line.startswith("#   ")] == list(NOTES)
    assert {key: _service(head_node)["environment"][key] for key in NOTES} == NOTES
    assert "PYTHONASYNCIODEBUG=1" not in render.env_file(head_node)
    assert "PYTHONASYNCIODEBUG is left out" in block_1


def test_block_1_follows_the_notes_given_in_data():
    node = make_node(settings={"ray_notes_env": {"RAY_SERVE_ASYNC_DEBUG": "0", "MY_NOTE": "x #y 'z'"}})
    block_1, _ = _blocks(render.env_file(node))
    assert "#   MY_NOTE" in block_1 and "x #y" not in block_1
    assert _service(node)["environment"] == {"RAY_SERVE_ASYNC_DEBUG": "0", "MY_NOTE": "x #y 'z'"}


def test_asyncio_debug_only_when_asked():
    node = make_node(settings={"ray_asyncio_debug": True})
    block_1, block_2 = _blocks(render.env_file(node))
    assert "PYTHONASYNCIODEBUG=1" in _env_lines(block_1)
    assert "PYTHONASYNCIODEBUG" not in block_2
    assert "switch it off after debugging" in block_1


def test_block_2_holds_the_settings_ray_reads(worker_node):
    _, block_2 = _blocks(render.env_file(worker_node))
    env = _env(block_2)
    assert env["DASHBOARD_METRIC_PORT"] == "44227"
    assert env["RAY_SERVE_PROXY_READY_CHECK_TIMEOUT_S"] == "30"
    assert env["RAY_SERVE_PROXY_HEALTH_CHECK_TIMEOUT_S"] == "30"
    assert env["RAY_SERVE_PROXY_HEALTH_CHECK_PERIOD_S"] == "10"
    assert env["RAY_ADDRESS"] == "10.0.0.10:6379"
    assert env["RAY_USAGE_STATS_ENABLED"] == "0"
    assert env["PYTHONPATH"] == render.CONTAINER_SERVE_DIR
    assert not set(NOTES) & set(env)


def test_block_2_follows_data():
    node = make_node(
        role="head", address="10.0.0.20", head_address="10.0.0.20",
        settings={
            "ray_dashboard_metrics_port": 45000,
            "ray_gcs_port": 6380,
            "serve_proxy_ready_check_timeout_s": 90,
            "serve_proxy_health_check_timeout_s": 45,
            "serve_proxy_health_check_period_s": 15,
        },
    )
    env = _env(_blocks(render.env_file(node))[1])
    assert env["DASHBOARD_METRIC_PORT"] == "45000"
    assert env["RAY_SERVE_PROXY_READY_CHECK_TIMEOUT_S"] == "90"
    assert env["RAY_SERVE_PROXY_HEALTH_CHECK_TIMEOUT_S"] == "45"
    assert env["RAY_SERVE_PROXY_HEALTH_CHECK_PERIOD_S"] == "15"
    assert env["RAY_ADDRESS"] == "10.0.0.20:6380"


def test_a_worker_joins_the_head_on_the_heads_gcs_port():
    worker = make_node(role="worker", address="10.0.0.11", head_address="10.0.0.20",
                       settings={"ray_gcs_port": 7000})
    worker = type(worker)(**{**worker.__dict__, "head_gcs_port": 6380})
    assert _env(render.env_file(worker))["RAY_ADDRESS"] == "10.0.0.20:6380"


def test_dashboard_metrics_port_is_not_the_metrics_export_port(head_node):
    env = _env(render.env_file(head_node))
    assert env["DASHBOARD_METRIC_PORT"] != str(head_node.settings["ray_metrics_export_port"])


def test_ray_env_and_secrets_are_in_the_compose_environment_not_the_env_file():
    node = make_node(settings={"ray_env": {"HF_HOME": "/data/hf", "OMP_NUM_THREADS": 4},
                               "ray_notes_env": {}})
    node = type(node)(**{**node.__dict__, "secret_env": {"DB_PASSWORD": "s3cr$t"}})
    text = render.env_file(node)
    assert "HF_HOME" not in text and "s3cr" not in text
    assert text.endswith(
        "# ray_notes_env, ray_env and ray_secret_env are in the compose file's environment: mapping,\n"
        "# which Compose v1 and v2 read alike whatever the values hold.\n"
    )
    assert _service(node)["environment"] == {
        "HF_HOME": "/data/hf", "OMP_NUM_THREADS": "4", "DB_PASSWORD": "s3cr$$t",
    }
    bare = make_node(settings={"ray_notes_env": {}})
    assert "ray_env and ray_secret_env" not in render.env_file(bare)
    assert "environment" not in _service(bare)


# Values Compose v1 (1.29.2) and v2 (2.26.1) were seen to give a container byte
# for byte as written here, from this exact YAML (docker-compose up, env -0).
AWKWARD = {
    "SPACES": "two  words  ",
    "HASH": "a #not-comment",
    "QUOTES": "it's \"quoted\"",
    "DOLLAR": "$HOME ${USER} $$ $",
    "EQ": "a=b=c",
    "BACKSLASH": "C:\\path\\n \\",
    "UNICODE": "naïve 日本 🚀",
    "FLOAT": "1e3",
    "YES": "yes",
    "EMPTY": "",
}
AWKWARD_YAML = """\
    environment:
      SPACES: "two  words  "
      HASH: "a #not-comment"
      QUOTES: "it's \\"quoted\\""
      DOLLAR: "$$HOME $${USER} $$$$ $$"
      EQ: "a=b=c"
      BACKSLASH: "C:\\\\path\\\\n \\\\"
      UNICODE: "na\\xEFve \\u65E5\\u672C \\U0001F680"
      FLOAT: "1e3"
      'YES': "yes"
      EMPTY: ""
"""


def test_awkward_values_are_written_double_quoted_with_dollars_doubled():
    node = make_node(settings={"ray_env": AWKWARD, "ray_notes_env": {}})
    text = render.compose_file(node, "0123456789abcdef")
    start = text.index("    environment:\n")
    assert text[start:start + len(AWKWARD_YAML)] == AWKWARD_YAML
    # Read back as YAML and unescaped as Compose does, the values are what was asked.
    environment = _service(node)["environment"]
    assert {key: value.replace("$$", "$") for key, value in environment.items()} == AWKWARD


def test_gpu_runtime_mode_keeps_its_variable_beside_ray_env():
    node = make_node(settings={"ray_env": {"A": "1"}, "ray_notes_env": {}})
    node = type(node)(**{**node.__dict__, "gpus": 2, "gpu_mode": "runtime"})
    assert _service(node)["environment"] == {"NVIDIA_VISIBLE_DEVICES": "all", "A": "1"}


@pytest.mark.parametrize(
    ("key", "value"),
    [("ray_dashboard_metrics_port", 45001), ("serve_proxy_health_check_period_s", 3),
     ("ray_gcs_port", 6390), ("ray_notes_env", {"RAY_SERVE_ASYNC_DEBUG": "1"})],
)
def test_changing_data_changes_the_env_file(key, value):
    assert render.env_file(make_node(settings={key: value})) != render.env_file(make_node())


# --------------------------------------------------------------------------- compose file

def test_compose_file_parses_and_names_one_service(head_node, worker_node):
    head = yaml.safe_load(render.compose_file(head_node, "h"))
    worker = yaml.safe_load(render.compose_file(worker_node, "w"))
    assert list(head["services"]) == ["ray-head"]
    assert list(worker["services"]) == ["ray-worker"]
    assert render.compose_file(head_node, "h").startswith("# Managed by the seedcore deploy")


def test_compose_service_runs_on_the_host_network_with_its_limits(head_node):
    service = _service(head_node)
    assert service["image"] == DEFAULT_IMAGE
    assert service["container_name"] == "seedcore-ray-head"
    assert service["network_mode"] == "host"
    assert "ports" not in service
    assert service["restart"] == "unless-stopped"
    assert service["ulimits"] == {"nofile": {"soft": 65536, "hard": 65536}}
    assert service["env_file"] == ["ray.env"]
    assert service["volumes"] == ["/opt/seedcore/serve:/srv/seedcore/serve:ro"]


def test_compose_follows_restart_policy_and_nofile_from_data():
    node = make_node(settings={"ray_restart_policy": "always", "ray_nofile_limit": 1048576,
                               "ray_project_dir": "/srv/ray"})
    service = _service(node)
    assert service["restart"] == "always"
    assert service["ulimits"]["nofile"] == {"soft": 1048576, "hard": 1048576}
    assert service["volumes"] == ["/srv/ray/serve:/srv/seedcore/serve:ro"]


@pytest.mark.parametrize(("store_mb", "shm"), [(2048, "2560m"), (4000, "5000m"), (1000, "1250m")])
def test_shm_size_is_the_object_store_plus_a_quarter(store_mb, shm):
    node = make_node(settings={"ray_object_store_memory_mb": store_mb})
    assert _service(node)["shm_size"] == shm
    store = [arg for arg in _service(node)["command"] if arg.startswith("--object-store-memory=")]
    assert store == [f"--object-store-memory={store_mb * 1024 * 1024}"]


def test_healthcheck_probes_the_gcs_on_the_head_and_metrics_on_a_worker(head_node, worker_node):
    head = _service(head_node)["healthcheck"]
    worker = _service(worker_node)["healthcheck"]
    probe = "import urllib.request; urllib.request.urlopen('{}', timeout=5)"
    assert head["test"] == ["CMD", "python", "-c", probe.format("http://127.0.0.1:8265/api/gcs_healthz")]
    assert worker["test"] == ["CMD", "python", "-c", probe.format("http://127.0.0.1:8080/metrics")]
    for check in (head, worker):
        assert check["interval"] == "5s"
        assert check["retries"] == 6
        assert check["start_period"] == "60s"


def test_labels_mark_the_container_as_ours(head_node, worker_node):
    assert _service(head_node, "abc123")["labels"] == {
        "io.seedcore.managed-by": "seedcore-deploy",
        "io.seedcore.role": "head",
        "io.seedcore.config-hash": "abc123",
    }
    assert _service(worker_node)["labels"]["io.seedcore.role"] == "worker"


def test_only_the_head_service_has_the_ray_profile(head_node, worker_node):
    assert _service(head_node)["profiles"] == ["ray"]
    assert "profiles" not in _service(worker_node)


def test_head_starts_ray_as_the_head(head_node):
    assert _service(head_node)["command"] == [
        "ray", "start", "--block", "--node-ip-address=10.0.0.10", "--head", "--port=6379",
        "--dashboard-host=0.0.0.0", "--dashboard-port=8265", "--dashboard-grpc-port=8266",
        "--ray-client-server-port=10001", "--dashboard-agent-listen-port=52365",
        "--metrics-export-port=8080", *PINNED, "--object-store-memory=2147483648", "--disable-usage-stats",
    ]


def test_worker_joins_the_head(worker_node):
    assert _service(worker_node)["command"] == [
        "ray", "start", "--block", "--node-ip-address=10.0.0.11", "--address=10.0.0.10:6379",
        "--dashboard-agent-listen-port=52365", "--metrics-export-port=8080", *PINNED,
        "--object-store-memory=2147483648", "--disable-usage-stats",
    ]


def test_every_port_a_node_opens_is_pinned_by_its_key(head_node, worker_node):
    """No Ray port is left to chance: each managed port key reaches `ray start` or the env file."""
    from seedcore.ports import node_ports

    for node in (head_node, worker_node):
        settings = {**node.settings, **{key: 30000 + index for index, key in enumerate(
            key for key in node.settings if key.startswith("ray_") and key.endswith("_port"))}}
        settings["ray_min_worker_port"], settings["ray_max_worker_port"] = 31000, 31999
        changed = make_node(role=node.role, settings=settings)
        said = " ".join(_service(changed)["command"]) + "\n" + render.env_file(changed)
        for name, low, high in node_ports(node.role, settings):
            if name.startswith(("ray_", "serve_")) and name != "serve_http_port":
                assert str(low) in said, name
            if "-" in name:
                assert str(low) in said and str(high) in said, name


def test_num_cpus_and_extra_args_only_when_set():
    command = _service(make_node(role="worker", settings={
        "ray_num_cpus": 6, "ray_start_extra_args": ["--resources", '{"ssd": 1}'],
    }))["command"]
    assert command[-3:] == ["--num-cpus=6", "--resources", '{"ssd": 1}']
    assert [arg for arg in command if arg.startswith("--num-cpus")] == ["--num-cpus=6"]


def test_ports_in_ray_start_follow_data():
    command = _service(make_node(settings={
        "ray_gcs_port": 6380, "ray_dashboard_port": 8266, "ray_metrics_export_port": 9090,
        "ray_dashboard_agent_port": 52366,
    }))["command"]
    assert {"--port=6380", "--dashboard-port=8266", "--metrics-export-port=9090",
            "--dashboard-agent-listen-port=52366"} <= set(command)


# --------------------------------------------------------------------------- config hash

def test_config_hash_is_stable_for_the_same_input():
    assert render.config_hash(make_node()) == render.config_hash(make_node())
    assert len(render.config_hash(make_node())) == 16


def test_config_hash_changes_when_an_env_value_changes():
    base = render.config_hash(make_node())
    assert render.config_hash(make_node(settings={"serve_proxy_health_check_period_s": 11})) != base
    assert render.config_hash(make_node(settings={"ray_env": {"X": "1"}})) != base


def test_config_hash_changes_when_the_compose_file_changes():
    base = render.config_hash(make_node())
    assert render.config_hash(make_node(settings={"ray_image": "registry.example.com/ray:2.20.1"})) != base
    assert render.config_hash(make_node(settings={"ray_object_store_memory_mb": 4096})) != base


def test_config_hash_ignores_settings_the_node_does_not_use():
    # The Docker log rotation lives in daemon.json: no reason to recreate Ray containers.
    assert render.config_hash(make_node(settings={"docker_log_max_size": "10m"})) == \
        render.config_hash(make_node())


def test_worker_hash_changes_when_the_head_hash_changes(worker_node):
    assert render.config_hash(worker_node, "aaaa") != render.config_hash(worker_node, "bbbb")
    assert render.config_hash(worker_node, "aaaa") == render.config_hash(worker_node, "aaaa")


# --------------------------------------------------------------------------- serve config

def test_serve_config_runs_a_proxy_on_every_node(head_node):
    config = yaml.safe_load(render.serve_config(head_node.settings))
    assert config["proxy_location"] == "EveryNode"
    assert config["http_options"] == {"host": "0.0.0.0", "port": 8000}
    assert config["applications"] == [
        {"name": "seedcore-health", "route_prefix": "/health", "import_path": "seedcore_health:app",
         "deployments": [{"name": "Health", "num_replicas": 1}]},
    ]


def test_health_app_gets_one_replica_per_node_so_every_node_runs_a_proxy(head_node):
    config = yaml.safe_load(render.serve_config(head_node.settings, nodes=4))
    assert config["applications"][0]["deployments"] == [{"name": "Health", "num_replicas": 4}]
    source = render.health_app_source()
    assert "@serve.deployment(max_replicas_per_node=1, " in source
    assert "node:__internal_head__" not in source


def test_serve_config_appends_user_applications_after_health():
    apps = [
        {"name": "embed", "route_prefix": "/embed", "import_path": "embed.app:app"},
        {"name": "rank", "route_prefix": "/rank", "import_path": "rank:app",
         "deployments": [{"name": "Ranker", "num_replicas": 2}]},
    ]
    settings = make_node(settings={"serve_applications": apps, "serve_http_port": 9000,
                                   "serve_health_route": "/healthz"}).settings
    config = yaml.safe_load(render.serve_config(settings))
    assert [app["name"] for app in config["applications"]] == ["seedcore-health", "embed", "rank"]
    assert config["applications"][0]["route_prefix"] == "/healthz"
    assert config["applications"][2]["deployments"] == [{"name": "Ranker", "num_replicas": 2}]
    assert config["http_options"]["port"] == 9000


def test_health_app_is_shipped_with_the_deploy():
    source = render.health_app_source()
    assert "app = " in source
    assert "ray_version" in source


# --------------------------------------------------------------------------- daemon.json

def test_daemon_json_rotates_logs(head_node):
    document = json.loads(render.daemon_json(head_node.settings))
    assert document == {"log-driver": "json-file", "log-opts": {"max-size": "50m", "max-file": "5"}}


def test_daemon_json_lists_registries_and_merges_extra_keys():
    settings = make_node(settings={
        "docker_insecure_registries": ["registry.lab:5000"],
        "docker_registry_mirrors": ["https://mirror.example.com"],
        "docker_daemon_extra": {"live-restore": True, "default-ulimits": {"nofile": {"Soft": 1, "Hard": 2}}},
        "docker_log_max_file": 3,
    }).settings
    document = json.loads(render.daemon_json(settings))
    assert document["insecure-registries"] == ["registry.lab:5000"]
    assert document["registry-mirrors"] == ["https://mirror.example.com"]
    assert document["live-restore"] is True
    assert document["default-ulimits"] == {"nofile": {"Soft": 1, "Hard": 2}}
    assert document["log-opts"]["max-file"] == "3"


def test_daemon_json_extra_keys_win(head_node):
    settings = {**head_node.settings, "docker_daemon_extra": {"log-driver": "journald"}}
    assert json.loads(render.daemon_json(settings))["log-driver"] == "journald"
