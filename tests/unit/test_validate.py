"""Checks of the inventory and its data, before any host is touched."""

import sys

import pytest
from pyinfra.api import Inventory
from pyinfra.api.exceptions import PyinfraError

from seedcore import defaults, validate
from seedcore.topology import settings_for
from tests.harness import make_settings

IMAGE = "registry.example.com/seedcore/ray:2.20.0"


@pytest.fixture(autouse=True)
def inventory_file(monkeypatch):
    """Problems name the inventory file the operator passed to pyinfra."""
    monkeypatch.setattr(sys, "argv", ["pyinfra", "inventories/staging.py", "deploy/cluster.py"])
    return "inventories/staging.py"


def _inventory(heads, workers, all_data=None, host_data=None):
    """A real pyinfra Inventory: hosts named in `heads` / `workers`, data per host."""
    host_data = host_data or {}

    def named(names):
        return [(name, host_data.get(name, {})) for name in names]

    names = list(dict.fromkeys([*heads, *workers]))
    return Inventory(
        (named(names), {"ray_image": IMAGE, **(all_data or {})}),
        ray_head=(named(heads), {}),
        ray_workers=(named(workers), {}),
    )


def _addresses(*pairs):
    return {name: {"ssh_hostname": address} for name, address in pairs}


# --------------------------------------------------------------------------- check_keys

def test_check_keys_accepts_known_keys_and_foreign_ones():
    data = {"ray_image": IMAGE, "ray_num_cpus": 4, "ssh_user": "deploy", "_sudo": True}
    assert validate.check_keys("head-1", data) == []


def test_unknown_key_gets_a_suggestion():
    problems = validate.check_keys("head-1", {"ray_image": IMAGE, "ray_imgae": "x:1"})
    assert problems == ["host head-1: unknown key ray_imgae: did you mean ray_image?"]


def test_unknown_key_without_a_close_match_points_at_the_readme():
    problems = validate.check_keys("head-1", {"ray_image": IMAGE, "serve_zzzzzzzz_qqq": 1})
    assert problems == ["host head-1: unknown key serve_zzzzzzzz_qqq: see docs/data-keys.md"]


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("ray_gcs_port", "6379", "host w: ray_gcs_port must be an integer, got str '6379'"),
        ("ray_gcs_port", True, "host w: ray_gcs_port must be an integer, got bool True"),
        ("ray_asyncio_debug", "yes", "host w: ray_asyncio_debug must be true/false, got str 'yes'"),
        ("docker_users", "ray", "host w: docker_users must be a list, got str 'ray'"),
        ("ray_env", ["A=1"], "host w: ray_env must be a mapping, got list ['A=1']"),
        ("ray_image", 2, "host w: ray_image must be a string, got int 2"),
    ],
)
def test_wrong_types_are_named(key, value, expected):
    data = {"ray_image": IMAGE, key: value}
    assert validate.check_keys("w", data) == [expected]


def test_required_ray_image_unset():
    assert validate.check_keys("head-1", {}) == [
        "host head-1: ray_image must be set (in group_data or the inventory)",
    ]
    assert validate.check_keys("head-1", {"ray_image": None}) == [
        "host head-1: ray_image must be set (in group_data or the inventory)",
    ]


# --------------------------------------------------------------------------- check_values

def test_defaults_with_an_image_have_no_problem():
    assert validate.check_values("head-1", "head", make_settings()) == []
    assert validate.check_values("worker-1", "worker", make_settings()) == []


@pytest.mark.parametrize("port", [0, 65536, -1])
def test_port_out_of_range(port):
    problems = validate.check_rules("head-1", make_settings({"ray_dashboard_port": port}))
    assert problems == [f"host head-1: ray_dashboard_port={port} is out of range: use 1-65535"]
    # Reported once: the port-clash check leaves a bad port to the rule.
    assert validate.check_values("head-1", "head", make_settings({"ray_dashboard_port": port})) == []


def test_two_services_on_one_port_name_both_keys():
    settings = make_settings({"ray_dashboard_metrics_port": 8080, "ray_metrics_export_port": 8080})
    problems = validate.check_values("head-1", "head", settings)
    assert len(problems) == 1
    assert "ray_dashboard_metrics_port" in problems[0]
    assert "ray_metrics_export_port" in problems[0]
    assert "both 8080" in problems[0]


def test_a_worker_does_not_run_the_dashboard_ports():
    # The dashboard's metrics server runs on the head only.
    settings = make_settings({"ray_dashboard_metrics_port": 8080, "ray_metrics_export_port": 8080})
    assert validate.check_values("worker-1", "worker", settings) == []


def test_serve_port_clash_on_a_worker():
    settings = make_settings({"serve_http_port": 8080})
    problems = validate.check_values("worker-1", "worker", settings)
    assert len(problems) == 1
    assert "serve_http_port and ray_metrics_export_port are both 8080" in problems[0]


@pytest.mark.parametrize(
    ("image", "tagged"),
    [
        ("rayproject/ray", False),
        ("rayproject/ray:2.20.0", True),
        ("registry:5000/x", False),
        ("registry:5000/x:1", True),
        ("registry.example.com:5000/seedcore/ray", False),
        ("rayproject/ray@sha256:" + "a" * 64, True),
    ],
)
def test_image_without_a_tag(image, tagged):
    problems = validate.check_values("head-1", "head", make_settings({"ray_image": image}))
    if tagged:
        assert problems == []
    else:
        assert problems == [
            f"host head-1: ray_image {image!r} has no tag: pin one, e.g. {image}:2.20.0",
        ]


@pytest.mark.parametrize(
    "app",
    [
        "embed.app:app",
        {"name": "embed"},
        {"import_path": "embed.app:app"},
    ],
)
def test_bad_serve_application(app):
    good = {"name": "ok", "import_path": "ok:app"}
    problems = validate.check_values("head-1", "head", make_settings({"serve_applications": [good, app]}))
    assert problems == [
        "host head-1: serve_applications[1] must be a mapping with at least name and import_path",
    ]


# --------------------------------------------------------------------------- parse_serve_applications

def test_parse_serve_applications_reads_yaml():
    text = "- name: embed\n  import_path: embed.app:app\n  route_prefix: /embed\n"
    assert validate.parse_serve_applications(text) == [
        {"name": "embed", "import_path": "embed.app:app", "route_prefix": "/embed"},
    ]


def test_parse_serve_applications_passes_a_list_through():
    apps = [{"name": "a", "import_path": "a:app"}]
    assert validate.parse_serve_applications(apps) is apps


def test_parse_serve_applications_broken_yaml():
    with pytest.raises(ValueError, match="does not parse as YAML"):
        validate.parse_serve_applications("- name: embed\n  import_path: [unclosed\n")


@pytest.mark.parametrize("value", ["name: embed\nimport_path: e:app\n", {"name": "embed"}, 3])
def test_parse_serve_applications_wants_a_list(value):
    with pytest.raises(ValueError, match="must be a list of applications"):
        validate.parse_serve_applications(value)


# --------------------------------------------------------------------------- check_inventory

def test_good_inventory_has_no_problem():
    inventory = _inventory(["head-1"], ["worker-1", "worker-2"], host_data=_addresses(
        ("head-1", "10.0.0.10"), ("worker-1", "10.0.0.11"), ("worker-2", "10.0.0.12"),
    ))
    assert validate.check_inventory(inventory) == []


def test_no_head(inventory_file):
    inventory = _inventory([], ["worker-1"], host_data=_addresses(("worker-1", "10.0.0.11")))
    assert validate.check_inventory(inventory) == [
        f"{inventory_file}: no host in group ray_head: put exactly one host there",
    ]


def test_two_heads(inventory_file):
    inventory = _inventory(["head-1", "head-2"], ["worker-1"], host_data=_addresses(
        ("head-1", "10.0.0.10"), ("head-2", "10.0.0.20"), ("worker-1", "10.0.0.11"),
    ))
    assert validate.check_inventory(inventory) == [
        f"{inventory_file}: 2 hosts in group ray_head (head-1, head-2): exactly one host runs the Ray head",
    ]


def test_host_in_both_groups(inventory_file):
    inventory = _inventory(["node-1"], ["node-1", "worker-1"], host_data=_addresses(
        ("node-1", "10.0.0.10"), ("worker-1", "10.0.0.11"),
    ))
    assert validate.check_inventory(inventory) == [
        f"{inventory_file}: host node-1 is in both ray_head and ray_workers: "
        "one Ray node per host; keep it in one group",
    ]


def test_duplicate_addresses(inventory_file):
    inventory = _inventory(["head-1"], ["worker-1", "worker-1b"], host_data=_addresses(
        ("head-1", "10.0.0.10"), ("worker-1", "10.0.0.11"), ("worker-1b", "10.0.0.11"),
    ))
    assert validate.check_inventory(inventory) == [
        f"{inventory_file}: hosts worker-1 and worker-1b have the same address 10.0.0.11 "
        "(worker-1's ssh_hostname, worker-1b's ssh_hostname): each host must appear once",
    ]


def test_duplicate_ray_node_ip(inventory_file):
    inventory = _inventory(["head-1"], ["worker-1"], host_data={
        "head-1": {"ssh_hostname": "10.0.0.10", "ray_node_ip": "192.168.50.10"},
        "worker-1": {"ssh_hostname": "10.0.0.11", "ray_node_ip": "192.168.50.10"},
    })
    assert validate.check_inventory(inventory) == [
        f"{inventory_file}: hosts head-1 and worker-1 have the same address 192.168.50.10 "
        "(head-1's ray_node_ip, worker-1's ray_node_ip): each host must appear once",
    ]


def test_duplicate_address_names_the_key_of_each_host(inventory_file):
    """The worker's ray_node_ip equals the head's SSH address: each host's own key is named."""
    inventory = _inventory(["head-1"], ["worker-1"], host_data={
        "head-1": {"ssh_hostname": "10.0.0.10"},
        "worker-1": {"ssh_hostname": "10.0.0.11", "ray_node_ip": "10.0.0.10"},
    })
    assert validate.check_inventory(inventory) == [
        f"{inventory_file}: hosts head-1 and worker-1 have the same address 10.0.0.10 "
        "(head-1's ssh_hostname, worker-1's ray_node_ip): each host must appear once",
    ]


def test_differing_ray_version(inventory_file):
    host_data = _addresses(("head-1", "10.0.0.10"), ("worker-1", "10.0.0.11"))
    host_data["worker-1"]["ray_version"] = "2.9.3"
    inventory = _inventory(["head-1"], ["worker-1"], host_data=host_data)
    assert validate.check_inventory(inventory) == [
        f"{inventory_file}: ray_version differs between hosts (head-1=2.20.0, worker-1=2.9.3): "
        "a Ray cluster runs one version; set it once in group_data/all.py",
    ]


def test_every_problem_is_reported_at_once():
    host_data = _addresses(("head-1", "10.0.0.10"), ("head-2", "10.0.0.10"))
    host_data["head-2"]["ray_imgae"] = "x:1"
    host_data["head-1"]["ray_gcs_port"] = 70000
    inventory = _inventory(["head-1", "head-2"], [], host_data=host_data)
    problems = validate.check_inventory(inventory)
    assert len(problems) == 4
    assert "2 hosts in group ray_head" in problems[0]
    assert any("ray_gcs_port=70000 is out of range" in p for p in problems)
    assert any("unknown key ray_imgae: did you mean ray_image?" in p for p in problems)
    # The typo on head-2 does not hide its other problem: the address head-1 has too.
    assert any("have the same address 10.0.0.10" in p for p in problems)


def test_image_unset_for_the_whole_inventory():
    inventory = Inventory(
        ([("head-1", {"ssh_hostname": "10.0.0.10"})], {}),
        ray_head=(["head-1"], {}),
    )
    assert validate.check_inventory(inventory) == [
        "inventories/staging.py: host head-1: ray_image must be set (in group_data or the inventory)",
    ]


def test_serve_applications_that_do_not_parse():
    inventory = _inventory(["head-1"], [], all_data={"serve_applications": "- name: [broken"},
                           host_data=_addresses(("head-1", "10.0.0.10")))
    (problem,) = validate.check_inventory(inventory)
    assert problem.startswith(
        "inventories/staging.py: host head-1: serve_applications does not parse as YAML"
    )


def test_serve_applications_given_as_yaml_text_are_accepted():
    text = "- name: embed\n  import_path: embed.app:app\n"
    inventory = _inventory(["head-1"], [], all_data={"serve_applications": text},
                           host_data=_addresses(("head-1", "10.0.0.10")))
    assert validate.check_inventory(inventory) == []
    head = inventory.get_host("head-1")
    assert settings_for(head)["serve_applications"] == [{"name": "embed", "import_path": "embed.app:app"}]


def test_inventory_error_is_a_pyinfra_error():
    assert issubclass(validate.InventoryError, PyinfraError)


def test_inventory_name_without_a_file(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["pyinfra", "@local", "exec", "--", "true"])
    assert validate.inventory_name() == "the inventory"


# --------------------------------------------------------------------------- check_rules: ranges

RANGES = sorted(defaults.RANGES.items())


@pytest.mark.parametrize(("key", "rule"), RANGES, ids=[key for key, _ in RANGES])
def test_every_numeric_key_has_a_range(key, rule):
    low, high, _ = rule
    assert high is not None, f"{key} has no upper bound"
    assert validate.check_rules("w", make_settings({key: low})) == []
    assert validate.check_rules("w", make_settings({key: high})) == []
    (below,) = validate.check_rules("w", make_settings({key: low - 1}))
    assert below.startswith(f"host w: {key}={low - 1} ")
    span = f"{low}-{high}" if high is not None else f"{low} or more"
    assert below.endswith(f": use {span}")
    if high is not None:
        (above,) = validate.check_rules("w", make_settings({key: high + 1}))
        assert above.endswith(f": use {span}")


def test_every_integer_key_is_in_the_range_table():
    ints = {key for key, value in defaults.ALL_DEFAULTS.items()
            if isinstance(value, int) and not isinstance(value, bool)}
    assert ints == set(defaults.RANGES)


@pytest.mark.parametrize("value", [-512, 0])
def test_object_store_memory_must_be_positive(value):
    assert validate.check_rules("worker-1", make_settings({"ray_object_store_memory_mb": value})) == [
        f"host worker-1: ray_object_store_memory_mb={value} leaves Ray no object store "
        "(and Compose no shm_size): use 1-4194304",
    ]


def test_nofile_below_1024():
    assert validate.check_rules("w", make_settings({"ray_nofile_limit": 1000})) == [
        "host w: ray_nofile_limit=1000 is out of range: use 1024-1048576",
    ]


# --------------------------------------------------------------------------- check_rules: choices

CHOICES = sorted(defaults.CHOICES.items())


@pytest.mark.parametrize(("key", "allowed"), CHOICES, ids=[key for key, _ in CHOICES])
def test_closed_string_keys_take_only_their_values(key, allowed):
    for value in allowed:
        assert validate.check_rules("w", make_settings({key: value})) == []
    (problem,) = validate.check_rules("w", make_settings({key: "Bogus"}))
    assert problem == (
        f"host w: {key}='Bogus' is not allowed: use one of " + ", ".join(repr(a) for a in allowed)
    )


def test_restart_policy_typo():
    assert validate.check_rules("w", make_settings({"ray_restart_policy": "unless_stopped"})) == [
        "host w: ray_restart_policy='unless_stopped' is not allowed: "
        "use one of 'no', 'always', 'on-failure', 'unless-stopped'",
    ]


# --------------------------------------------------------------------------- check_rules: safe strings

def test_defaults_follow_their_own_rules():
    assert validate.check_rules("w", make_settings()) == []


@pytest.mark.parametrize(("key", "value", "words"), [
    ("ray_project_dir", "opt/seedcore", "an absolute path"),
    ("ray_project_dir", "/opt/seed core", "an absolute path"),
    ("ray_project_dir", "/opt/$(reboot)", "an absolute path"),
    ("ray_project_dir", "/opt/'x'", "an absolute path"),
    ("ray_compose_project", "SeedCore", "Compose's project names"),
    ("ray_compose_project", "-seedcore", "Compose's project names"),
    ("ray_head_container", "ray head", "Docker's container names"),
    ("ray_worker_container", ".worker", "Docker's container names"),
    ("ray_image", "registry/ray:2.20.0 --privileged", "an image reference"),
    ("gpu_image", "registry/ray;reboot:1", "an image reference"),
    ("docker_log_max_size", "50 MB", "a size such as 50m"),
    ("serve_health_route", "health", "a route starting with /"),
    ("docker_registry_password_env", "MY-PASSWORD", "an environment variable name"),
    ("docker_users", ["ray", "bad user"], "user names"),
])
def test_unsafe_strings_are_refused(key, value, words):
    problems = validate.check_rules("w", make_settings({key: value}))
    bad = value[-1] if isinstance(value, list) else value
    assert problems == [
        f"host w: {key} {bad!r} is not {defaults.PATTERNS[key][1]}: correct it",
    ]
    assert words in problems[0]


@pytest.mark.parametrize(("key", "value", "where"), [
    ("ray_env", {"MODE": "a\nEVIL=1"}, "ray_env MODE"),
    ("ray_env", {"MODE": "a\rb"}, "ray_env MODE"),
    ("ray_notes_env", {"RAY_SERVE_ASYNC_DEBUG": "1\x00"}, "ray_notes_env RAY_SERVE_ASYNC_DEBUG"),
    ("ray_image", "registry/ray:2.20.0\n", "ray_image"),
    ("ray_start_extra_args", ["--num-gpus=0", "--x\n"], "ray_start_extra_args[1]"),
    ("docker_daemon_extra", {"labels": ["a\nb"]}, "docker_daemon_extra labels[0]"),
])
def test_newline_and_nul_are_refused_naming_the_key(key, value, where):
    assert validate.check_rules("w", make_settings({key: value})) == [
        f"host w: {where} holds a newline, carriage return or NUL: remove it (one line per value)",
    ]


@pytest.mark.parametrize("key", ["ray_env", "ray_notes_env", "ray_secret_env"])
@pytest.mark.parametrize("name", ["MY-VAR", "1ST", "A B", ""])
def test_env_names_must_be_shell_names(key, name):
    value = "SOURCE_VAR" if key == "ray_secret_env" else "1"
    assert validate.check_rules("w", make_settings({key: {name: value}})) == [
        f"host w: {key} variable {name!r} is not an environment variable name: "
        "[A-Za-z_][A-Za-z0-9_]*: rename it",
    ]


def test_secret_env_source_must_be_a_variable_name():
    assert validate.check_rules("w", make_settings({"ray_secret_env": {"TOKEN": "$(cat /etc/shadow)"}})) == [
        "host w: ray_secret_env TOKEN must name a variable of this machine "
        "(an environment variable name: [A-Za-z_][A-Za-z0-9_]*), got str",
    ]


def test_secret_with_a_newline_is_refused_without_its_value(monkeypatch):
    monkeypatch.setenv("SEEDCORE_TEST_TOKEN", "s3cr3t-value\nEVIL=1")
    problems = validate.check_values("w", "worker", make_settings(
        {"ray_secret_env": {"TOKEN": "SEEDCORE_TEST_TOKEN"}}))
    assert problems == [
        "host w: ray_secret_env TOKEN reads $SEEDCORE_TEST_TOKEN, whose value holds a newline, "
        "carriage return or NUL (value not shown): an env file line cannot carry it; "
        "store the secret without them",
    ]
    assert "s3cr3t" not in problems[0]


# --------------------------------------------------------------------------- serve applications

APP = {"name": "embed", "import_path": "embed.app:app", "route_prefix": "/embed"}


def _apps(*apps, **overrides):
    return validate.check_serve_applications("head-1", make_settings({"serve_applications": list(apps),
                                                                      **overrides}))


def test_distinct_applications_pass():
    assert _apps(APP, {"name": "rank", "import_path": "rank:app", "route_prefix": "/rank"}) == []


def test_application_named_like_the_health_application():
    assert _apps({**APP, "name": "seedcore-health"}) == [
        "host head-1: serve_applications[0] is named 'seedcore-health' like the shipped health "
        "application: give it its own name",
    ]


@pytest.mark.parametrize(("route", "health"), [("/health", "/health"), ("/ping", "/ping")])
def test_application_routed_like_the_health_application(route, health):
    assert _apps({**APP, "route_prefix": route}, serve_health_route=health) == [
        f"host head-1: serve_applications[0] route_prefix {route} is taken by the shipped health "
        "application (serve_health_route): give it its own route",
    ]


def test_two_applications_with_one_name_or_route():
    assert _apps(APP, {**APP, "route_prefix": "/other"}, {**APP, "name": "other"}) == [
        "host head-1: serve_applications[1] is named 'embed' like serve_applications[0]: "
        "give it its own name",
        "host head-1: serve_applications[2] route_prefix /embed is taken by serve_applications[0]: "
        "give it its own route",
    ]


def test_applications_without_a_route_both_take_the_root():
    a = {"name": "a", "import_path": "a:app"}
    b = {"name": "b", "import_path": "b:app"}
    assert _apps(a, b) == [
        "host head-1: serve_applications[1] route_prefix / is taken by serve_applications[0]: "
        "give it its own route",
    ]


def test_route_prefix_must_start_with_a_slash():
    assert _apps({**APP, "route_prefix": "embed"}) == [
        "host head-1: serve_applications[0] route_prefix 'embed' must start with /: e.g. /embed",
    ]


@pytest.mark.parametrize("value", [{1, 2}, object(), b"bytes", {1: "int key"}])
def test_application_values_must_be_plain_yaml(value):
    assert _apps({**APP, "args": value}) == [
        "host head-1: serve_applications[0] holds a value YAML cannot write plainly: use strings, "
        "numbers, true/false, lists and mappings with string keys",
    ]


def test_health_clash_refused_by_check_inventory(inventory_file):
    inventory = _inventory(["head-1"], [], all_data={"serve_applications": [
        {"name": "seedcore-health", "import_path": "mine:app", "route_prefix": "/health"},
    ]}, host_data=_addresses(("head-1", "10.0.0.10")))
    assert validate.check_inventory(inventory) == [
        f"{inventory_file}: host head-1: serve_applications[0] is named 'seedcore-health' like the "
        "shipped health application: give it its own name",
        f"{inventory_file}: host head-1: serve_applications[0] route_prefix /health is taken by the "
        "shipped health application (serve_health_route): give it its own route",
    ]


# --------------------------------------------------------------------------- before connecting

def test_connection_problems_no_hosts(inventory_file):
    assert validate.connection_problems(Inventory(([], {}))) == [
        f"{inventory_file}: no hosts at all: list the head in ray_head and the workers in ray_workers",
    ]


def test_connection_problems_missing_key(inventory_file, tmp_path):
    present = tmp_path / "id_ed25519"
    present.write_text("key\n")
    inventory = _inventory(["head-1"], ["worker-1"], host_data={
        "head-1": {"ssh_key": str(present)}, "worker-1": {"ssh_key": str(tmp_path / "gone")},
    })
    assert validate.connection_problems(inventory) == [
        f"{inventory_file}: host worker-1: ssh_key {tmp_path / 'gone'} does not exist on this machine: "
        "fix the path (or create the key) before the run",
    ]
    with pytest.raises(validate.InventoryError, match="worker-1: ssh_key"):
        validate.refuse_unconnectable(inventory)


def test_connection_problems_an_ssh_config_that_would_not_be_read(inventory_file, tmp_path):
    present = tmp_path / "ssh_config"
    present.write_text("Host 10.0.0.*\n    ProxyJump jump@192.0.2.9\n")
    inventory = _inventory(["head-1"], ["worker-1", "worker-2"], host_data={
        "head-1": {"ssh_config_file": str(present)},
        "worker-1": {"ssh_config_file": "~/.ssh/seedcore_config"},
        "worker-2": {"ssh_config_file": str(tmp_path / "gone")},
    })
    assert validate.connection_problems(inventory) == [
        f"{inventory_file}: host worker-1: ssh_config_file ~/.ssh/seedcore_config starts with ~, which "
        "pyinfra does not expand (without it the host would be dialled directly, not through its "
        "ProxyJump): give the file's absolute path",
        f"{inventory_file}: host worker-2: ssh_config_file {tmp_path / 'gone'} is not a file on this "
        "machine (without it the host would be dialled directly, not through its ProxyJump): give the "
        "file's absolute path",
    ]


# --------------------------------------------------------------------------- pinned ports

def test_a_pinned_port_inside_the_worker_range_is_refused():
    problems = validate.check_values("head-1", "head", make_settings({"ray_client_server_port": 10500,
                                                                      "ray_image": IMAGE}))
    assert problems == [
        "host head-1: ray_min_worker_port-ray_max_worker_port (10002-19999) and ray_client_server_port "
        "(10500) overlap: two services cannot share a port; move ray_client_server_port outside the range"]


def test_two_new_pinned_ports_on_one_port_name_both_keys():
    problems = validate.check_values("worker-1", "worker", make_settings({
        "ray_node_manager_port": 8079, "ray_image": IMAGE}))
    assert problems == ["host worker-1: ray_dashboard_agent_grpc_port and ray_node_manager_port are both "
                        "8079: two services cannot share a port; give each its own"]


def test_a_worker_range_running_backwards_is_refused():
    problems = validate.check_values("worker-1", "worker", make_settings({
        "ray_min_worker_port": 20000, "ray_max_worker_port": 10002, "ray_image": IMAGE}))
    assert problems == ["host worker-1: ray_min_worker_port=20000 is above ray_max_worker_port=10002: "
                        "give the lowest worker port first"]


def test_a_worker_range_may_hold_a_head_only_port_on_a_worker():
    assert validate.check_values("worker-1", "worker", make_settings({
        "ray_client_server_port": 10500, "ray_image": IMAGE})) == []


def test_firewall_problems_reach_check_inventory(inventory_file):
    inventory = _inventory(["head-1"], ["worker-1"], all_data={"firewall_allow_cidrs": ["10.0.0.1/8"]},
                           host_data=_addresses(("head-1", "10.0.0.10"), ("worker-1", "10.0.0.11")))
    problems = validate.check_inventory(inventory)
    # Set for every host, said once for all of them.
    assert len(problems) == 1 and "hosts head-1, worker-1: firewall_allow_cidrs '10.0.0.1/8'" in problems[0]


def test_the_same_problem_on_several_hosts_is_one_line_naming_them():
    lines = validate.once_each([
        "host a: unknown key ray_x: did you mean ray_y?",
        "host b: serve_http_port=0 is out of range: use 1-65535",
        "host b: unknown key ray_x: did you mean ray_y?",
        "no host in group ray_head: put exactly one host there",
    ])
    assert lines == [
        "hosts a, b: unknown key ray_x: did you mean ray_y?",
        "host b: serve_http_port=0 is out of range: use 1-65535",
        "no host in group ray_head: put exactly one host there",
    ]
