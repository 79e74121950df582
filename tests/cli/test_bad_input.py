"""Inventory mistakes, as `pyinfra INVENTORY deploy/cluster.py --dry` reports them.

Each one stops the run before any operation is planned or run, with a line
naming the inventory file, the host, the key and what to do about it. The
hosts' facts are those of bare Debian 12 servers, so nothing but the
inventory itself is wrong.
"""

import pytest

from tests.cli.cli import HEAD_IP, UNSET, WORKER_IPS, assert_refused, problem_line, problems
from tests.cli.inprocess import prepare


def test_no_head_host(deployment):
    deployment.worker()
    deployment.worker("worker-2", WORKER_IPS[1])
    lines = assert_refused(deployment.dry(), deployment.path)
    line = problem_line(lines, deployment.path, "no host in group ray_head")
    assert "put exactly one host there" in line


def test_two_head_hosts(deployment):
    deployment.head("head-1")
    deployment.head("head-2", WORKER_IPS[0])
    lines = assert_refused(deployment.dry(), deployment.path)
    line = problem_line(lines, deployment.path, "2 hosts in group ray_head")
    assert "@fake/head-1" in line and "@fake/head-2" in line
    assert "exactly one host runs the Ray head" in line


def test_host_in_both_head_and_workers(deployment):
    node = deployment.head("node-1")
    deployment.host("ray_workers", "node-1")
    deployment.worker("worker-2", WORKER_IPS[1])
    lines = assert_refused(deployment.dry(), deployment.path)
    line = problem_line(lines, deployment.path, f"host {node} is in both ray_head and ray_workers")
    assert "one Ray node per host; keep it in one group" in line
    assert "worker-2" not in "\n".join(lines)


@pytest.mark.parametrize("key", ["ssh_hostname", "ray_node_ip"])
def test_two_hosts_with_the_same_address(deployment, key):
    deployment.head(ip=None, **{key: "192.0.2.20"})
    deployment.worker("worker-1", ip=None, **{key: "192.0.2.20"})
    lines = assert_refused(deployment.dry(), deployment.path)
    line = problem_line(lines, deployment.path, "the same address 192.0.2.20")
    assert "hosts @fake/head-1 and @fake/worker-1" in line
    assert "each host must appear once" in line


@pytest.mark.parametrize("key", ["ssh_hostname", "ray_node_ip"])
def test_same_address_problem_names_the_key(deployment, key):
    deployment.head(ip=None, **{key: "192.0.2.20"})
    deployment.worker("worker-1", ip=None, **{key: "192.0.2.20"})
    lines = assert_refused(deployment.dry(), deployment.path)
    problem_line(lines, deployment.path, "the same address 192.0.2.20", key)


@pytest.mark.parametrize("role, key, value", [
    ("head", "ray_dashboard_port", 70000),
    ("head", "ray_gcs_port", 0),
    ("worker", "serve_http_port", 65536),
    ("worker", "ray_metrics_export_port", -1),
])
def test_port_out_of_range(deployment, role, key, value):
    head = deployment.head(**({key: value} if role == "head" else {}))
    worker = deployment.worker(**({key: value} if role == "worker" else {}))
    lines = assert_refused(deployment.dry(), deployment.path)
    host = head if role == "head" else worker
    line = problem_line(lines, deployment.path, f"host {host}: {key}={value} is out of range")
    assert "use 1-65535" in line
    assert len(lines) == 1, lines


def test_worker_gcs_port_out_of_range(deployment):
    deployment.head()
    worker = deployment.worker(ray_gcs_port=70000)
    lines = assert_refused(deployment.dry(), deployment.path)
    problem_line(lines, deployment.path, f"host {worker}: ray_gcs_port=70000 is out of range")


def test_dashboard_metrics_port_same_as_metrics_export_port(deployment):
    # The fix notes' own mistake: both metrics servers on 8080, set for every host.
    head = deployment.head(ray_dashboard_metrics_port=8080, ray_metrics_export_port=8080)
    deployment.worker(ray_dashboard_metrics_port=8080, ray_metrics_export_port=8080)
    lines = assert_refused(deployment.dry(), deployment.path)
    line = problem_line(
        lines, deployment.path,
        f"host {head}: ray_dashboard_metrics_port and ray_metrics_export_port are both 8080",
    )
    assert "give each its own" in line
    # The dashboard runs on the head only: a worker has no clash to report.
    assert len(lines) == 1, lines


def test_unknown_key_suggests_the_known_one(deployment):
    deployment.head()
    worker = deployment.worker(ray_image=UNSET, ray_imgae="registry.example.com/seedcore/ray:2.20.0")
    lines = assert_refused(deployment.dry(), deployment.path)
    problem_line(lines, deployment.path, f"host {worker}: unknown key ray_imgae: did you mean ray_image?")
    # The typo leaves ray_image unset, and that is said too.
    problem_line(lines, deployment.path, f"host {worker}: ray_image must be set")


@pytest.mark.parametrize("key, value, expected", [
    ("ray_gcs_port", "6379", "ray_gcs_port must be an integer, got str '6379'"),
    ("ray_asyncio_debug", "yes", "ray_asyncio_debug must be true/false, got str 'yes'"),
])
def test_value_of_the_wrong_type(deployment, key, value, expected):
    head = deployment.head(**{key: value})
    deployment.worker()
    lines = assert_refused(deployment.dry(), deployment.path)
    problem_line(lines, deployment.path, f"host {head}: {expected}")
    assert len(lines) == 1, lines


def test_image_without_a_tag(deployment):
    # The registry's port is not a tag.
    image = "registry.example.com:5000/seedcore/ray"
    deployment.head(ray_image=image)
    worker = deployment.worker(ray_image=image)
    lines = assert_refused(deployment.dry(), deployment.path)
    line = problem_line(lines, deployment.path, f"{worker}: ray_image '{image}' has no tag")
    assert f"pin one, e.g. {image}:2.20.0" in line
    # Both hosts, one line.
    assert len(lines) == 1 and "hosts @fake/head-1, @fake/worker-1: " in line, lines


def test_image_unset(deployment):
    head = deployment.head(ray_image=UNSET)
    deployment.worker()
    lines = assert_refused(deployment.dry(), deployment.path)
    line = problem_line(lines, deployment.path, f"host {head}: ray_image must be set")
    assert "in group_data or the inventory" in line
    assert len(lines) == 1, lines


def test_ray_version_differs_between_head_and_worker(deployment):
    deployment.head()
    deployment.worker(ray_version="2.9.3")
    lines = assert_refused(deployment.dry(), deployment.path)
    line = problem_line(lines, deployment.path, "ray_version differs between hosts")
    assert "@fake/head-1=2.20.0" in line and "@fake/worker-1=2.9.3" in line
    assert "set it once in group_data/all.py" in line


UNPARSABLE_APPS = "- name: reports\n  import_path: [reports.app:deployment\n"


def test_serve_applications_that_do_not_parse(deployment):
    head = deployment.head(serve_applications=UNPARSABLE_APPS)
    deployment.worker()
    run = deployment.dry()
    lines = assert_refused(run, deployment.path)
    problem_line(lines, deployment.path, f"host {head}: serve_applications does not parse as YAML")
    # Where in the text the YAML breaks.
    assert "line 2" in run.output


def test_serve_applications_problem_is_one_line_with_the_fix(deployment):
    deployment.head(serve_applications=UNPARSABLE_APPS)
    deployment.worker()
    run = deployment.dry()
    assert_refused(run, deployment.path)
    block = run.output.split("nothing was changed on any host:", 1)[1].strip().splitlines()
    assert all(line.strip().startswith(f"{deployment.path}: ") for line in block), block
    line = problem_line(problems(run), deployment.path, "serve_applications")
    assert "line 2" in line and "list" in line


@pytest.mark.parametrize("data, expected", [
    ({"ray_image": "registry.example.com/seedcore/ray:2.20.0-gpu"}, "is a GPU image"),
    ({"ray_image": "registry.example.com/seedcore/ray:2.20.0-cuda12.1"}, "is a GPU image"),
    ({"gpu_image": "registry.example.com/seedcore/ray:2.20.0-gpu"}, "gpu_image is set"),
])
def test_gpu_image_on_a_cpu_host(deployment, data, expected):
    deployment.head()
    worker = deployment.worker(**data)
    lines = assert_refused(deployment.dry(), deployment.path)
    line = problem_line(lines, deployment.path, f"host {worker}: ", expected)
    assert "not in group gpu" in line


def test_ray_cuda_tagged_image_on_a_cpu_host(deployment):
    deployment.head()
    worker = deployment.worker(ray_image="rayproject/ray:2.20.0-py310-cu121")
    lines = assert_refused(deployment.dry(), deployment.path)
    problem_line(lines, deployment.path, f"host {worker}: ", "is a GPU image")


def test_gpu_host_in_neither_head_nor_workers(deployment):
    deployment.head()
    gpu = deployment.host("gpu", "gpu-1", WORKER_IPS[0])
    lines = assert_refused(deployment.dry(), deployment.path)
    line = problem_line(lines, deployment.path, f"host {gpu}", "ray_workers")
    assert "gpu" in line


def test_gcs_port_set_on_the_head_only(deployment):
    """Either the run is refused naming ray_gcs_port, or the worker joins the head's port."""
    deployment.head(ray_gcs_port=6380)
    worker = deployment.worker()
    run = deployment.dry()
    if run.code != 0:
        problem_line(assert_refused(run, deployment.path), deployment.path, "ray_gcs_port")
        return
    compose = prepare(deployment.path).uploads(worker)["/opt/seedcore/ray-workers.yml"]
    assert f"--address={HEAD_IP}:6380" in compose


def test_every_problem_of_every_host_in_one_run(deployment):
    head = deployment.head(ray_dashboard_port=70000)
    worker = deployment.worker(ray_asyncio_debug="yes")
    worker_2 = deployment.worker("worker-2", WORKER_IPS[1], ray_image="registry.example.com/seedcore/ray")
    run = deployment.dry()
    lines = assert_refused(run, deployment.path)
    assert "3 problems found before any change" in run.output
    problem_line(lines, deployment.path, f"host {head}: ray_dashboard_port=70000")
    problem_line(lines, deployment.path, f"host {worker}: ray_asyncio_debug")
    problem_line(lines, deployment.path, f"host {worker_2}: ray_image")


def test_apply_refuses_before_any_operation(deployment):
    """The same refusal without --dry: nothing is planned, nothing runs."""
    deployment.head()
    worker = deployment.worker(ray_gcs_port="6379")
    run = deployment.run("-y")
    lines = assert_refused(run, deployment.path)
    problem_line(lines, deployment.path, f"host {worker}: ray_gcs_port must be an integer")
    assert "--> Beginning operation run" not in run.output


@pytest.mark.parametrize("value", [-512, 0])
def test_object_store_memory_out_of_range_on_one_worker(deployment, value):
    """Once accepted: the worker was stopped, then Compose refused its shm_size."""
    deployment.head()
    worker = deployment.worker(ray_object_store_memory_mb=value)
    lines = assert_refused(deployment.dry(), deployment.path)
    assert lines == [
        f"{deployment.path}: host {worker}: ray_object_store_memory_mb={value} leaves Ray no object "
        "store (and Compose no shm_size): use 1-4194304",
    ]


@pytest.mark.parametrize("key, value, expected", [
    ("ray_nofile_limit", 512, "ray_nofile_limit=512 is out of range: use 1024-1048576"),
    ("verify_timeout_s", 0, "verify_timeout_s=0 is out of range: use 1-3600"),
    ("docker_log_max_file", 0, "docker_log_max_file=0 is out of range: use 1-100"),
    ("serve_proxy_location", "Everywhere",
     "serve_proxy_location='Everywhere' is not allowed: use one of 'EveryNode', 'HeadOnly', 'Disabled'"),
    ("ray_compose_project", "SeedCore",
     "ray_compose_project 'SeedCore' is not [a-z0-9][a-z0-9_-]* (Compose's project names): correct it"),
])
def test_value_outside_its_rule(deployment, key, value, expected):
    head = deployment.head(**{key: value})
    deployment.worker()
    lines = assert_refused(deployment.dry(), deployment.path)
    assert lines == [f"{deployment.path}: host {head}: {expected}"]


def test_address_clash_names_each_hosts_key(deployment):
    """The worker's ray_node_ip is the head's SSH address: each host's own key is named."""
    head = deployment.head(ip=None, ssh_hostname="192.0.2.20")
    worker = deployment.worker(ip="192.0.2.20")
    lines = assert_refused(deployment.dry(), deployment.path)
    assert lines == [
        f"{deployment.path}: hosts {head} and {worker} have the same address 192.0.2.20 "
        f"({head}'s ssh_hostname, {worker}'s ray_node_ip): each host must appear once",
    ]


@pytest.mark.parametrize("app, expected", [
    ({"name": "seedcore-health", "import_path": "mine:app", "route_prefix": "/mine"},
     "serve_applications[0] is named 'seedcore-health' like the shipped health application: "
     "give it its own name"),
    ({"name": "mine", "import_path": "mine:app", "route_prefix": "/health"},
     "serve_applications[0] route_prefix /health is taken by the shipped health application "
     "(serve_health_route): give it its own route"),
])
def test_serve_application_clashing_with_the_health_app(deployment, app, expected):
    head = deployment.head(serve_applications=[app])
    deployment.worker(serve_applications=[app])
    lines = assert_refused(deployment.dry(), deployment.path)
    assert lines == [f"{deployment.path}: hosts {head}, @fake/worker-1: {expected}"]


def test_newline_in_ray_env_is_refused(deployment):
    head = deployment.head(ray_env={"MODE": "fast\nRAY_ADDRESS=10.9.9.9:6379"})
    deployment.worker()
    lines = assert_refused(deployment.dry(), deployment.path)
    assert lines == [
        f"{deployment.path}: host {head}: ray_env MODE holds a newline, carriage return or NUL: "
        "remove it (one line per value)",
    ]


def test_secret_with_a_newline_is_refused_without_printing_it(deployment, monkeypatch):
    monkeypatch.setenv("SEEDCORE_TEST_SECRET", "hunter2-do-not-print\nRAY_ADDRESS=evil")
    head = deployment.head(ray_secret_env={"API_TOKEN": "SEEDCORE_TEST_SECRET"})
    deployment.worker()
    run = deployment.dry()
    lines = assert_refused(run, deployment.path)
    assert lines == [
        f"{deployment.path}: host {head}: ray_secret_env API_TOKEN reads $SEEDCORE_TEST_SECRET, whose "
        "value holds a newline, carriage return or NUL (value not shown): an env file line cannot "
        "carry it; store the secret without them",
    ]
    assert "hunter2" not in run.output


@pytest.mark.parametrize("value", ["/opt/seed core", "/opt/$(id)", "opt/seedcore"])
def test_unsafe_project_dir(deployment, value):
    head = deployment.head(ray_project_dir=value)
    deployment.worker()
    lines = assert_refused(deployment.dry(), deployment.path)
    assert lines == [
        f"{deployment.path}: host {head}: ray_project_dir {value!r} is not an absolute path of "
        "letters, digits and . _ - (no spaces, quotes or $): correct it",
    ]


@pytest.mark.parametrize("deploy", ["deploy/cluster.py", "deploy/verify.py"])
def test_three_different_problems_come_out_together_once_each(deployment, deploy):
    """A typo'd key (on two hosts), an out-of-range port and two hosts claiming the
    head: one run lists all three, each once, with no file and line of the deploy's."""
    deployment.head(ray_dashbord_port=8265, serve_http_port=99999)
    deployment.worker(ray_dashbord_port=8265)
    deployment.host("ray_head", "head-2", WORKER_IPS[1])
    run = deployment.run(deploy=deploy)
    assert run.code != 0 and not run.started_operations, run.describe()
    text = "\n".join(problems(run)) if deploy.endswith("cluster.py") else run.output
    assert text.count("unknown key ray_dashbord_port") == 1, run.describe()
    assert "hosts @fake/head-1, @fake/worker-1: unknown key ray_dashbord_port" in text, run.describe()
    assert text.count("serve_http_port=99999 is out of range") == 1, run.describe()
    assert text.count("2 hosts in group ray_head (@fake/head-1, @fake/head-2)") == 1, run.describe()
    assert "pyinfra error in " not in run.output and " line " not in run.output.split("pyinfra error")[-1]
