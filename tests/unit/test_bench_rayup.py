"""The `ray up` cluster yaml the bench builds from a lab state and what our deploy renders."""

import pytest

from bench import rayup
from seedcore.defaults import ALL_DEFAULTS

IMAGE = "172.29.9.2:5000/seedcore/ray:2.20.0-abc123"
PINNED = (
    "--node-manager-port=8077 --object-manager-port=8076 --min-worker-port=10002 "
    "--max-worker-port=19999 --dashboard-agent-grpc-port=8079 --runtime-env-agent-port=8078 "
)
HEAD_START = (
    "ray start --node-ip-address=172.29.9.11 --head --port=6379 --dashboard-host=0.0.0.0 "
    "--dashboard-port=8265 --dashboard-grpc-port=8266 --ray-client-server-port=10001 "
    "--dashboard-agent-listen-port=52365 --metrics-export-port=8080 " + PINNED
    + "--object-store-memory=536870912 --disable-usage-stats "
    "--autoscaling-config=~/ray_bootstrap_config.yaml"
)
WORKER_START = (
    "ray start --address=172.29.9.11:6379 --dashboard-agent-listen-port=52365 "
    "--metrics-export-port=8080 " + PINNED + "--object-store-memory=536870912 --disable-usage-stats"
)


def lab_state(workers: int = 2) -> dict:
    hosts = [{"name": "lab-1", "ip": "172.29.9.11", "role": "head", "distro": "bookworm",
              "install_source": "distro"}]
    hosts += [{"name": f"lab-{i}", "ip": f"172.29.9.{10 + i}", "role": "worker", "distro": "bookworm",
               "install_source": "distro"} for i in range(2, 2 + workers)]
    return {
        "ssh_user": "seedcore", "ssh_key": "/repo/.lab/id_ed25519", "known_hosts": "/repo/.lab/known_hosts",
        "registry": {"address": "172.29.9.2:5000", "push_address": "127.0.0.1:5055"},
        "ray_image": IMAGE, "apt_mirror": {"url": "", "key_fingerprint": "", "versions": {}},
        "hosts": hosts,
    }


def config(group_data=None, state=None) -> dict:
    state = state or lab_state()
    data = rayup.lab_group_data() if group_data is None else group_data
    # group_data/lab.py's tls_dir is the real lab's: these made-up hosts get their
    # certificates in the session's store (tests/conftest.py points the default there).
    data = {**data, "tls_dir": ALL_DEFAULTS["tls_dir"]}
    nodes = rayup.lab_nodes(state, data)
    return rayup.cluster_config(state, nodes, rayup.rayup_image(state["ray_image"]))


def test_provider_auth_and_image_come_from_the_lab_state():
    built = config()
    assert built["provider"] == {"type": "local", "head_ip": "172.29.9.11",
                                 "worker_ips": ["172.29.9.12", "172.29.9.13"]}
    assert built["auth"] == {"ssh_user": "seedcore", "ssh_private_key": "/repo/.lab/id_ed25519"}
    assert (built["min_workers"], built["max_workers"]) == (2, 2)
    assert built["docker"]["image"] == "172.29.9.2:5000/seedcore/ray-rayup:2.20.0-abc123"
    assert built["docker"]["container_name"] == "seedcore-rayup"


def test_start_commands_are_the_rendered_ray_start_without_block():
    built = config()
    assert built["head_start_ray_commands"] == ["ray stop", HEAD_START]
    assert built["worker_start_ray_commands"] == ["ray stop", WORKER_START]


def test_run_options_follow_the_rendered_service_for_the_lab_group():
    options = config()["docker"]["head_run_options"]
    # group_data/lab.py: object store 512 MB -> shm 640m; nofile 16384.
    assert options[:3] == ["--shm-size=640m", "--ulimit nofile=16384:16384",
                           "-v /opt/seedcore/serve:/srv/seedcore/serve:ro"]
    assert "-e DASHBOARD_METRIC_PORT=44227" in options
    assert "-e RAY_ADDRESS=172.29.9.11:6379" in options
    assert "-e PYTHONPATH=/srv/seedcore/serve" in options
    assert config()["docker"]["worker_run_options"] == options


def test_environment_values_are_quoted_for_the_shell():
    options = config({"ray_env": {"GREETING": "a b; rm -rf /"}})["docker"]["head_run_options"]
    assert "-e 'GREETING=a b; rm -rf /'" in options


def test_without_the_lab_group_data_the_defaults_are_rendered():
    options = config({})["docker"]["head_run_options"]
    assert options[:2] == ["--shm-size=2560m", "--ulimit nofile=65536:65536"]


def test_workers_whose_options_differ_beyond_their_address_are_refused():
    state = lab_state()
    nodes = rayup.lab_nodes(state, {})
    odd = nodes[2].__class__(**{**nodes[2].__dict__,
                                "settings": {**nodes[2].settings, "ray_num_cpus": 4}})
    with pytest.raises(rayup.RayUpError, match=r"^lab-3: `ray start` options differ between workers "
                                               r"\(--node-ip-address=172.29.9.13 --num-cpus=4\)"):
        rayup.worker_start_commands([nodes[1], odd])


def test_head_fault_tolerance_is_refused():
    nodes = rayup.lab_nodes(lab_state(), {})
    head = nodes[0].__class__(**{**nodes[0].__dict__, "gcs_store": "172.29.9.14:6379"})
    with pytest.raises(rayup.RayUpError, match="does not cover head fault tolerance"):
        rayup.head_start_commands(head)


def test_a_state_without_exactly_one_head_is_refused():
    state = lab_state()
    state["hosts"][0]["role"] = "worker"
    with pytest.raises(rayup.RayUpError, match="^the lab state lists 0 heads"):
        rayup.lab_nodes(state, {})


def test_rayup_image_is_the_lab_image_repository_with_a_suffix():
    assert rayup.rayup_image("10.0.0.2:5000/seedcore/ray:2.20.0-x") == \
        "10.0.0.2:5000/seedcore/ray-rayup:2.20.0-x"
    with pytest.raises(rayup.RayUpError, match="has no tag"):
        rayup.rayup_image("10.0.0.2:5000/seedcore/ray")


def test_what_ray_up_checked_is_read_from_its_output():
    output = (
        "INFO updater.py:281 -- Running `uptime` as a test.\n"
        "VINFO -- Running `docker inspect -f '{{.State.Running}}' seedcore-rayup || true`\n"
        "Local node IP: 1.2.3.4\n--------------------\nRay runtime started.\n---\n"
    )
    assert rayup.rayup_checked(output) == (
        "`ray up` checked on the head only: SSH to the head answers (`uptime`); whether its container "
        "is running (`docker inspect`); `ray start --head` exited 0. Workers are started afterwards by "
        "the head's autoscaler; it waited for no worker, no dashboard answer and no Serve")
    assert rayup.rayup_checked("nothing").startswith(
        "`ray up` checked on the head only: nothing it reported.")


def test_what_ours_checked_lists_each_hosts_check_names():
    report = {"ok": True, "hosts": {
        "lab-1": {"checks": [{"check": "dashboard version", "ok": True},
                             {"check": "serve /health", "ok": True}]},
        "lab-2": {"checks": [{"check": "metrics", "ok": True}, {"check": "node alive", "ok": False}]},
    }}
    assert rayup.ours_checked(report) == (
        "verify from the control machine, all green: lab-1: 2/2 green (dashboard version, serve /health); "
        "lab-2: 1/2 green (metrics, node alive)")


def test_the_rayup_image_adds_rsync_ssh_and_the_image_path_for_login_shells():
    assert rayup.rayup_dockerfile("127.0.0.1:5055/seedcore/ray:2.20.0-x") == (
        "FROM 127.0.0.1:5055/seedcore/ray:2.20.0-x\n"
        "RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "
        "--no-install-recommends rsync openssh-client && rm -rf /var/lib/apt/lists/* "
        '&& echo "export PATH=$PATH" > /etc/profile.d/seedcore-image-path.sh '
        "&& PIP_CERT=/etc/ssl/certs/ca-certificates.crt pip install --no-cache-dir "
        "--disable-pip-version-check --no-deps filelock==3.10.7\n")


def test_alive_watch_waits_for_every_expected_address(monkeypatch):
    answers = iter([{}, {"a": "10.0.0.1"}, {"a": "10.0.0.1", "b": "10.0.0.2"}])
    monkeypatch.setattr(rayup, "alive_ids", lambda ip, port: next(answers))
    monkeypatch.setattr(rayup, "POLL_S", 0.01)
    watch = rayup.AliveWatch("10.0.0.1", 8265, ["10.0.0.2", "10.0.0.1"], timeout_s=5).start()
    assert watch.wait(5) >= 0
    assert watch.nodes == {"a": "10.0.0.1", "b": "10.0.0.2"}


def test_alive_watch_refuses_a_node_at_the_wrong_address(monkeypatch):
    monkeypatch.setattr(rayup, "alive_ids", lambda ip, port: {"a": "10.0.0.1", "b": "172.17.0.1"})
    monkeypatch.setattr(rayup, "POLL_S", 0.01)
    watch = rayup.AliveWatch("10.0.0.1", 8265, ["10.0.0.1", "10.0.0.2"], timeout_s=0.2).start()
    expected = (r"^ALIVE nodes on 10.0.0.1:8265 after 0 s: "
                r"\['10.0.0.1', '172.17.0.1'\]; expected \['10.0.0.1', '10.0.0.2'\]$")
    with pytest.raises(rayup.RayUpError, match=expected):
        watch.wait(5)
