"""`--dry` against a converged cluster: Docker running, each node's container up,
healthy and labelled with the config digest the deploy would give it now,
Docker's packages installed as asked and daemon.json as the deploy renders it.

The digest is the deploy's own: deploy.plan.plan_for on the same inventory,
prepared in-process. The Serve marker is what seedcore/tasks/serve.py records
after a deploy. The other files on disk are not scripted, so their rows are
not looked at here.
"""


import json

import pytest

from seedcore import commands
from tests.cli import responses
from tests.cli.cli import WORKER_IPS, Deployment, head_and_two_workers, problem_line, problems
from tests.cli.inprocess import plans

HEAD = "@fake/head-1"
WORKER_1 = "@fake/worker-1"
WORKER_2 = "@fake/worker-2"
STALE = "0123456789abcdef"

CONTAINER_STEPS = [
    "Pull the Ray image |",
    "Stop the Ray worker",
    "Stop the Ray head",
    "Remove leftover containers",
    "Check the node's ports are free",
    "Start the Ray head",
    "Wait until the Ray head is healthy",
    "Start the Ray worker",
    "Wait until the Ray worker is healthy",
    "Deploy the Serve config",
]


container_id = responses.container_id


def converge(deployment: Deployment, stale: tuple[str, ...] = (), joined: dict | None = None,
             added: dict | None = None, files: bool = False) -> None:
    """Give every host of the written inventory the facts of its converged node.

    Hosts in `stale` run a container labelled with an older digest; `joined`
    maps a worker to the head address its running container was started with;
    `added` maps a host to what a hand change added to its container
    (converged_node's added_env and added_mounts); with `files`, the project's
    files, Docker's service and the base tools are as the deploy leaves them.
    """
    for name, plan in plans(deployment.path).items():
        node = plan.node
        command = commands.ray_start_args(node)
        if joined and name in joined:
            command = [arg for arg in command if not arg.startswith("--address=")]
            command.append(f"--address={joined[name]}")
        deployment.data[name]["fake_responses"] = responses.converged_node(
            name, node, STALE if name in stale else plan.config_hash, command, **(added or {}).get(name, {}),
            files=files,
        )


@pytest.fixture(scope="module")
def converged(tmp_path_factory):
    deployment = head_and_two_workers(tmp_path_factory.mktemp("converged"))
    converge(deployment)
    return deployment, deployment.dry()


@pytest.fixture(scope="module")
def head_changed(tmp_path_factory):
    deployment = head_and_two_workers(tmp_path_factory.mktemp("head-changed"))
    converge(deployment, stale=(HEAD,))
    return deployment, deployment.dry()


def test_converged_cluster_lists_no_container_change(converged):
    _, run = converged
    assert run.code == 0, run.describe()
    for step in CONTAINER_STEPS:
        assert run.changes_anywhere(step) == set(), f"{step}:\n{run.describe()}"


RESTART_DOCKER = "Restart Docker because its packages or daemon.json changed"


def test_converged_cluster_lists_no_docker_restart(converged):
    _, run = converged
    assert run.code == 0, run.describe()
    assert run.changes_anywhere(RESTART_DOCKER) == set(), run.describe()


def test_a_changed_daemon_json_restarts_docker_on_that_host_only(tmp_path):
    deployment = head_and_two_workers(tmp_path)
    converge(deployment)
    facts = deployment.data[WORKER_1]["fake_responses"]
    edited = '{"debug": true}\n'
    facts[responses.DAEMON_JSON_SHA1] = responses.sha1sum("/etc/docker/daemon.json", edited)
    facts[responses.DAEMON_JSON_SHA256] = responses.sha256sum("/etc/docker/daemon.json", edited)
    run = deployment.dry()
    assert run.code == 0, run.describe()
    assert run.changed("Write /etc/docker/daemon.json") == {WORKER_1}, run.describe()
    # The restart acts on the write's outcome (seedcore/changes.py): a conditional change.
    row = run.row(RESTART_DOCKER)
    assert (row.change, row.conditional) == (frozenset(), {WORKER_1}), run.describe()


ROUTE_WAIT = "Wait until Serve answers the health route through the head's proxy"
SERVE_DEPLOY = "Deploy the Serve config when it changed or the head restarted"


def test_converged_cluster_lists_no_serve_route_wait(converged):
    _, run = converged
    assert run.code == 0, run.describe()
    assert run.changes_anywhere(SERVE_DEPLOY) == set(), run.describe()
    assert run.changes_anywhere(ROUTE_WAIT) == set(), run.describe()


def test_a_changed_serve_config_is_deployed_then_waited_for(tmp_path):
    deployment = head_and_two_workers(tmp_path)
    converge(deployment)
    facts = deployment.data[HEAD]["fake_responses"]
    facts[responses.SERVE_MARKER] = f"{STALE} {container_id(HEAD)[:12]}"
    run = deployment.dry()
    assert run.code == 0, run.describe()
    assert run.changed(SERVE_DEPLOY) == {HEAD}, run.describe()
    # The wait acts on the deploy's outcome (seedcore/changes.py): a conditional change.
    row = run.row(ROUTE_WAIT)
    assert (row.change, row.conditional) == (frozenset(), {HEAD}), run.describe()


REFRESH_APT = "Refresh apt, stopping if Docker's apt repository's signature does not verify"
FETCH_KEY = "Fetch Docker's apt signing key and check its fingerprint"
ADD_SOURCE = "Add Docker's apt repository, signed by its key"


def test_converged_cluster_lists_no_apt_refresh(converged):
    _, run = converged
    assert run.code == 0, run.describe()
    for step in (FETCH_KEY, ADD_SOURCE, REFRESH_APT):
        assert run.changes_anywhere(step) == set(), f"{step}:\n{run.describe()}"


@pytest.mark.parametrize(("matcher", "answer", "trigger"), [
    (responses.DOCKER_KEYRING_KEYS, "", FETCH_KEY),
    (responses.APT_SOURCES, [], ADD_SOURCE),
], ids=["keyring lacks the key", "source missing"])
def test_a_missing_key_or_source_refreshes_apt_on_that_host_only(tmp_path, matcher, answer, trigger):
    deployment = head_and_two_workers(tmp_path)
    converge(deployment)
    deployment.data[WORKER_1]["fake_responses"][matcher] = answer
    run = deployment.dry()
    assert run.code == 0, run.describe()
    assert run.changed(trigger) == {WORKER_1}, run.describe()
    # The refresh acts on the key's or the source's outcome (seedcore/changes.py).
    row = run.row(REFRESH_APT)
    assert (row.change, row.conditional) == (frozenset(), {WORKER_1}), run.describe()


GPU_RESTART = "Restart Docker because nvidia-ctk changed daemon.json"
GPU_STEPS = [
    "Fetch NVIDIA's container toolkit signing key and check its fingerprint",
    "Add NVIDIA's container toolkit repository, signed by its key",
    "Refresh apt, stopping if NVIDIA's container toolkit repository's signature does not verify",
    "Install the NVIDIA container toolkit",
    "Register the NVIDIA runtime with Docker",
    GPU_RESTART,
]


def _gpuhead_and_two_workers(directory) -> Deployment:
    """The cluster with worker-2 a GPU host (two GPUs), all of it converged."""
    deployment = Deployment(directory)
    deployment.head()
    deployment.worker("worker-1", WORKER_IPS[0])
    deployment.gpu(deployment.worker("worker-2", WORKER_IPS[1],
                                     facts=responses.bare_debian12(NVIDIA_SMI=responses.gpus(2))))
    deployment.write()
    converge(deployment)
    return deployment


def test_converged_gpu_host_lists_no_nvidia_step_and_no_restart(tmp_path):
    deployment = _gpuhead_and_two_workers(tmp_path)
    run = deployment.dry()
    assert run.code == 0, run.describe()
    assert plans(deployment.path)[WORKER_2].node.gpus == 2
    for step in GPU_STEPS:
        assert run.changes_anywhere(step) == set(), f"{step}:\n{run.describe()}"


def test_a_gpu_host_whose_daemon_json_lacks_the_runtime_restarts_docker_there_only(tmp_path):
    deployment = _gpuhead_and_two_workers(tmp_path)
    facts = deployment.data[WORKER_2]["fake_responses"]
    facts[responses.DAEMON_JSON] = ['{"log-driver": "json-file"}']
    run = deployment.dry()
    assert run.code == 0, run.describe()
    assert run.changed("Register the NVIDIA runtime with Docker") == {WORKER_2}, run.describe()
    # The restart acts on nvidia-ctk's outcome (seedcore/changes.py): a conditional change.
    row = run.row(GPU_RESTART)
    assert (row.change, row.conditional) == (frozenset(), {WORKER_2}), run.describe()


def test_ports_held_by_the_cluster_itself_are_not_refused(converged):
    # Every port the nodes need is listened on, by Ray inside the nodes' own containers.
    deployment, run = converged
    listening = "\n".join(deployment.data[HEAD]["fake_responses"][responses.LISTENING])
    for port in (6379, 8265, 52365, 8080, 44227, 8000):
        assert f":{port} " in listening
    assert "held by" not in run.output
    assert "problem" not in run.output


def test_head_config_change_restarts_head_then_workers(head_changed):
    _, run = head_changed
    assert run.code == 0, run.describe()
    assert run.changed("Stop the Ray worker") == {WORKER_1, WORKER_2}
    assert run.changed("Stop the Ray head") == {HEAD}
    assert run.changed("Start the Ray head") == {HEAD}
    assert run.changes_anywhere("Pull the Ray image |") == set()
    operations = run.operations()
    order = [operations.index(run.row(step).operation)
             for step in ("Stop the Ray worker", "Stop the Ray head", "Start the Ray head")]
    assert order == sorted(order), operations


def test_head_config_change_lists_the_workers_start(head_changed):
    _, run = head_changed
    assert run.changed("Start the Ray worker") == {WORKER_1, WORKER_2}


def test_head_config_change_lists_the_serve_redeploy(head_changed):
    _, run = head_changed
    assert run.changed("Deploy the Serve config") == {HEAD}
    row = run.row(ROUTE_WAIT)
    assert (row.change, row.conditional) == (frozenset(), {HEAD}), run.describe()


def test_worker_only_change_restarts_only_that_worker(tmp_path):
    deployment = head_and_two_workers(tmp_path)
    converge(deployment, stale=(WORKER_2,))
    run = deployment.dry()
    assert run.code == 0, run.describe()
    assert run.changed("Stop the Ray worker") == {WORKER_2}
    assert run.changed("Start the Ray worker") == {WORKER_2}
    for step in ("Stop the Ray head", "Start the Ray head", "Deploy the Serve config"):
        assert run.changes_anywhere(step) == set(), f"{step}:\n{run.describe()}"


def test_worker_joined_to_another_head_is_named_and_restarted(tmp_path):
    deployment = head_and_two_workers(tmp_path)
    converge(deployment, stale=(WORKER_1,), joined={WORKER_1: "192.0.2.99:6379"})
    run = deployment.dry()
    assert run.code == 0, run.describe()
    assert (f"host {WORKER_1}: its Ray worker points at 192.0.2.99:6379, not at the head "
            "192.0.2.10:6379: it will be re-pointed and restarted") in run.output
    assert run.changed("Stop the Ray worker") == {WORKER_1}
    assert run.changed("Start the Ray worker") == {WORKER_1}


def test_converged_port_taken_by_a_foreign_process(tmp_path):
    """A converged head whose metrics port another process holds is still refused."""
    deployment = head_and_two_workers(tmp_path)
    converge(deployment)
    facts = deployment.data[HEAD]["fake_responses"]
    ours = container_id(HEAD)
    facts[responses.LISTENING] = responses.listening(
        responses.SSHD, (6379, "gcs_server", 3100, ours), (8080, "node_exporter", 777, ""),
    )
    run = deployment.dry()
    assert run.code != 0 and not run.has_change_table, run.describe()
    line = problem_line(problems(run), deployment.path, f"host {HEAD}: port 8080 (ray_metrics_export_port)")
    assert "held by node_exporter (pid 777)" in line
    assert "gcs_server" not in run.output


def test_a_head_recreated_by_hand_without_labels_is_drift_archived_and_replaced(tmp_path):
    """`docker run --name seedcore-ray-head ...` by hand: same name, no label."""
    deployment = head_and_two_workers(tmp_path)
    converge(deployment)
    facts = deployment.data[HEAD]["fake_responses"]
    record = json.loads("\n".join(facts[responses.CONTAINERS]))[0]
    record["Config"]["Labels"] = None
    facts[responses.CONTAINERS] = json.dumps([record], indent=4).splitlines()
    run = deployment.dry()
    assert run.code == 0, run.describe()
    assert (f"host {HEAD}: container seedcore-ray-head carries no io.seedcore.managed-by label: "
            "it was not made by this deploy; it will be archived and replaced") in run.output
    for step in ("Stop the Ray head", "Start the Ray head", "Deploy the Serve config"):
        assert run.changed(step) == {HEAD}, f"{step}:\n{run.describe()}"
    # The workers follow their head's restart, archived first like the head.
    assert run.changed("Stop the Ray worker") == {WORKER_1, WORKER_2}
    assert run.changed("Archive the logs of containers about to be removed") == {HEAD, WORKER_1, WORKER_2}


def test_a_variable_and_a_mount_added_by_hand_are_named_and_restore_that_worker_only(tmp_path):
    """A worker recreated by hand with one more variable and one more mount, its files put
    back as rendered: same digest label, same files, only what the container runs differs."""
    deployment = head_and_two_workers(tmp_path)
    converge(deployment, added={WORKER_2: {"added_env": ("DEBUG_TOKEN=not-for-output",),
                                           "added_mounts": ("/srv/scratch:/scratch",)}})
    run = deployment.dry()
    assert run.code == 0, run.describe()
    assert (f"host {WORKER_2}: container seedcore-ray-worker env has variables the render does not give: "
            "DEBUG_TOKEN; has mounts the render does not give: /scratch: it will be recreated as rendered"
            ) in run.output
    assert "not-for-output" not in run.output
    assert run.changed("Stop the Ray worker") == {WORKER_2}
    assert run.changed("Start the Ray worker") == {WORKER_2}
    for step in ("Stop the Ray head", "Start the Ray head", "Deploy the Serve config"):
        assert run.changes_anywhere(step) == set(), f"{step}:\n{run.describe()}"
