"""A whole `-y` converge of deploy/cluster.py through pyinfra's own executor
(`pyinfra.api.operations.run_ops`), on `@fake` hosts whose connector records
every command it is sent: what each host would run, in order, and that a
second run against converged hosts runs no changing command on the cluster.

The inventory is loaded and the deploy file prepared as the CLI does
(pyinfra_cli's make_inventory and load_deploy_file); nothing of pyinfra's
State, Host or executor is faked.
"""

import contextlib
import itertools
import sys
from dataclasses import dataclass

from pyinfra.api import Config, State
from pyinfra.api.command import PyinfraCommand
from pyinfra.api.connect import connect_all
from pyinfra.api.exceptions import PyinfraError
from pyinfra.api.operations import run_ops
from pyinfra.api.state import StateStage
from pyinfra.connectors.fake import FakeConnector
from pyinfra.context import ctx_config, ctx_inventory, ctx_state
from pyinfra_cli.inventory import make_inventory
from pyinfra_cli.util import load_deploy_file

from tests.cli.cli import CLUSTER, ROOT, WORKER_IPS, Deployment, head_and_two_workers
from tests.cli.inprocess import _process_wide_settings_kept
from tests.cli.test_converged import converge
from tests.shell import calls


@dataclass(frozen=True)
class Sent:
    """One command a host was sent: by an operation (a change), or to read a fact."""

    operation: str | None
    text: str
    sequence: int


# The order commands were sent in, across every host of a run.
SEQUENCE = itertools.count()


class RecordingConnector(FakeConnector):
    """pyinfra's fake connector (answers from `fake_responses`), recording each
    command with the operation that sent it; a command an operation yields is
    executed by pyinfra's PyinfraCommand.execute, a fact read is not."""

    def __init__(self, state, host):
        super().__init__(state, host)
        self.sent: list[Sent] = []

    def run_shell_command(self, command, print_output=False, print_input=False, **arguments):
        caller = sys._getframe(2).f_locals.get("self")
        if isinstance(caller, PyinfraCommand) and self.host.executing_op_hash:
            names = self.state.get_op_meta(self.host.executing_op_hash).names
            self.sent.append(Sent(" | ".join(sorted(names)), str(command), next(SEQUENCE)))
        return super().run_shell_command(command, print_output, print_input, **arguments)


@contextlib.contextmanager
def prepared(inventory_path):
    """`pyinfra -y INVENTORY deploy/cluster.py` through pyinfra's API, up to its
    execution: yields the planned (state, inventory), on recording hosts."""
    state = State(check_for_changes=False)
    state.cwd = str(ROOT)
    config = Config()
    with _process_wide_settings_kept([str(inventory_path), CLUSTER, "-y"], ROOT), \
            ctx_state.use(state), ctx_config.use(config):
        inventory = make_inventory(str(inventory_path), cwd=str(ROOT))
        for host in inventory:
            host.connector_cls = RecordingConnector
        with ctx_inventory.use(inventory):
            state.init(inventory, config)
            state.set_stage(StateStage.Connect)
            connect_all(state)
            state.set_stage(StateStage.Prepare)
            load_deploy_file(state, str(ROOT / CLUSTER))
            state.set_stage(StateStage.Execute)
            try:
                yield state, inventory
            finally:
                for host in inventory:
                    host.disconnect()


def converge_with_the_executor(inventory_path) -> dict[str, list[Sent]]:
    """`pyinfra -y INVENTORY deploy/cluster.py` through pyinfra's API: the changing
    commands each host was sent, in the order they ran."""
    with prepared(inventory_path) as (state, inventory):
        # The run ends verifying each node over the network, which no fake host answers:
        # that last step fails on every host ("No hosts remaining!"); every change is made before it.
        with contextlib.suppress(PyinfraError):
            run_ops(state)
        return {host.name: host.connector.sent for host in inventory}


def planned_order(inventory_path) -> list[tuple[str, frozenset[str]]]:
    """The operations pyinfra's executor would run, in its order: (name, hosts planning it)."""
    with prepared(inventory_path) as (state, inventory):
        return [(" | ".join(sorted(state.get_op_meta(op_hash).names)),
                 frozenset(host.name for host in inventory if op_hash in host.op_hash_order))
                for op_hash in state.get_op_order()]


def _first(sent: list[Sent], wanted) -> int:
    found = [i for i, one in enumerate(sent) if any(wanted(call) for call in calls([one.text]))]
    assert found, "no such command:\n" + "\n".join(one.text for one in sent)
    return found[0]


def _docker_installed(call):
    return call[:2] == ("apt-get", "install") and any("docker" in package for package in call[3])


def _pulled(call):
    return call[:2] == ("docker", "pull")


def _started(call):
    return call[:1] == ("compose",) and call[6] == "up"


COMPOSE_FILES = ("docker-compose.yml", "ray-workers.yml")


def _compose_file_written(sent: list[Sent]) -> int:
    found = [i for i, one in enumerate(sent) if any(name in one.text for name in COMPOSE_FILES)]
    assert found, "no compose file written"
    return found[0]


def test_a_bare_cluster_converges_in_order_through_pyinfras_executor(tmp_path):
    deployment = head_and_two_workers(tmp_path)

    sent = converge_with_the_executor(deployment.path)

    for name, commands in sent.items():
        docker, pull, files, start = (_first(commands, _docker_installed), _first(commands, _pulled),
                                      _compose_file_written(commands), _first(commands, _started))
        # The image is on the host before any file names it.
        assert docker < pull < files < start, f"{name}: Docker, pull, files, start out of order"


def test_the_head_starts_before_any_worker(tmp_path):
    deployment = head_and_two_workers(tmp_path)

    sent = converge_with_the_executor(deployment.path)

    head = sent["@fake/head-1"]
    head_started = head[_first(head, _started)].sequence
    for worker in ("@fake/worker-1", "@fake/worker-2"):
        assert sent[worker][_first(sent[worker], _started)].sequence > head_started


CLUSTER_CHANGES = (_docker_installed, _pulled, _started,
                   lambda call: call[:1] == ("compose",) and call[6] == "down",
                   lambda call: call[:2] == ("docker", "rm"))


def _changes(sent: dict[str, list[Sent]], kinds) -> dict[str, list[str]]:
    return {name: [one.text for one in commands
                   if any(kind(call) for call in calls([one.text]) for kind in kinds)]
            for name, commands in sent.items()}


def _converged_run(directory) -> dict[str, list[Sent]]:
    deployment = head_and_two_workers(directory)
    converge(deployment)
    deployment.write()
    return converge_with_the_executor(deployment.path)


def test_a_second_run_on_converged_hosts_changes_no_package_image_or_container(tmp_path):
    changes = _changes(_converged_run(tmp_path), CLUSTER_CHANGES)
    assert changes == {name: [] for name in changes}


def test_a_second_run_on_converged_hosts_restarts_no_service(tmp_path):
    changes = _changes(_converged_run(tmp_path), [lambda call: call[:2] == ("systemctl", "restart")])
    assert changes == {name: [] for name in changes}


def _apt(call):
    return call[:1] == ("apt-get",) and call[1] in ("install", "update")


def test_every_apt_get_waits_for_dpkgs_lock_and_retries_downloads_as_the_data_says(tmp_path):
    """A fresh host's apt-daily holds dpkg's lock: each package step waits up to
    docker_apt_lock_wait_s for it, and apt retries a failed download docker_apt_retries times."""
    deployment = head_and_two_workers(tmp_path, docker_apt_lock_wait_s=42, docker_apt_retries=7,
                                      docker_install_source="distro")

    sent = converge_with_the_executor(deployment.path)

    for name, commands in sent.items():
        apt = [call for one in commands for call in calls([one.text]) if _apt(call)]
        assert {call[1] for call in apt} == {"install", "update"}, f"{name}: {apt}"
        for call in apt:
            assert {"-o DPkg::Lock::Timeout=42", "-o Acquire::Retries=7"} <= call[2], f"{name}: {call}"


def _position(order: list[tuple[str, frozenset[str]]], fragment: str, host: str) -> int:
    found = [i for i, (name, hosts) in enumerate(order) if fragment in name and host in hosts]
    assert found, f"{fragment!r} is not planned on {host}:\n" + "\n".join(name for name, _ in order)
    return found[0]


def test_a_store_and_a_monitoring_host_of_their_own_wait_for_the_ray_nodes_in_turn(tmp_path, monkeypatch):
    """Hosts that share no operation with the Ray nodes are still ordered against them:
    the store's Redis before the head starts, Prometheus' checks after the last worker."""
    monkeypatch.setenv("SEEDCORE_TEST_GCS_STORE_PASSWORD", "store-password")
    store = {"ray_gcs_store_password_env": "SEEDCORE_TEST_GCS_STORE_PASSWORD"}
    deployment = Deployment(tmp_path)
    deployment.head(**store)
    deployment.worker("worker-1", WORKER_IPS[0], **store)
    deployment.host("ray_gcs_store", "store-1", WORKER_IPS[1], **store)
    deployment.host("monitoring", "prom-1", WORKER_IPS[2])
    deployment.write()

    order = planned_order(deployment.path)

    redis_up = _position(order, "Enable and start Redis", "@fake/store-1")
    head_started = _position(order, "Start the Ray head", "@fake/head-1")
    worker_healthy = _position(order, "Wait until the Ray worker is healthy", "@fake/worker-1")
    prometheus_checked = _position(order, "Check through the monitoring host that Prometheus", "@fake/prom-1")
    assert redis_up < head_started < worker_healthy < prometheus_checked
