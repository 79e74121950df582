"""An inventory pyinfra cannot even start on: no head, no hosts at all, an
ssh_key that is not there. Each entry point refuses it in one line naming the
inventory file and the fix, exits non-zero, and shows no traceback."""

import pytest

from tests.cli.cli import WORKER_IPS, run_cli

ENTRY_POINTS = ["deploy/cluster.py", "deploy/verify.py", "deploy/rollout.py", "deploy/rebuild.py"]


def refusal_lines(run, inventory) -> list[str]:
    """The lines naming the inventory file; the run must have stopped before any operation."""
    assert run.code != 0, run.describe()
    assert "Traceback" not in run.output and "Error:" not in run.output.replace("pyinfra error", ""), \
        run.describe()
    assert not run.has_change_table and not run.started_operations, run.describe()
    return [line.strip() for line in run.output.splitlines() if line.strip().startswith(f"{inventory}: ")]


@pytest.mark.parametrize("deploy", ENTRY_POINTS)
@pytest.mark.parametrize("head_group", ["ray_head = []\n", ""])
def test_no_head(tmp_path, deploy, head_group):
    inventory = tmp_path / "inventory.py"
    worker = ("@fake/worker-1", {"ray_image": "registry.example.com/seedcore/ray:2.20.0",
                                 "ray_node_ip": WORKER_IPS[0]})
    inventory.write_text(f"{head_group}ray_workers = [{worker!r}]\n")
    run = run_cli(inventory, "--dry", deploy=deploy)
    assert refusal_lines(run, inventory) == [
        f"{inventory}: no host in group ray_head: put exactly one host there",
    ]


@pytest.mark.parametrize("deploy", ENTRY_POINTS)
@pytest.mark.parametrize("text", ["ray_head = []\nray_workers = []\n", '"""Nothing yet."""\n'])
def test_no_hosts_at_all(tmp_path, deploy, text):
    inventory = tmp_path / "inventory.py"
    inventory.write_text(text)
    run = run_cli(inventory, "--dry", deploy=deploy)
    assert refusal_lines(run, inventory) == [
        f"{inventory}: no hosts at all: list the head in ray_head and the workers in ray_workers",
    ]


@pytest.mark.parametrize("deploy", ENTRY_POINTS)
def test_ssh_key_that_does_not_exist(deployment, tmp_path, deploy):
    missing = tmp_path / "keys" / "seedcore_ed25519"
    head = deployment.head(ssh_key=str(missing))
    deployment.worker()
    run = deployment.run("--dry", deploy=deploy)
    assert refusal_lines(run, deployment.path) == [
        f"{deployment.path}: host {head}: ssh_key {missing} does not exist on this machine: "
        "fix the path (or create the key) before the run",
    ]


def test_ssh_key_that_exists_is_accepted(deployment, tmp_path):
    key = tmp_path / "seedcore_ed25519"
    key.write_text("not used by @fake hosts\n")
    deployment.head(ssh_key=str(key))
    deployment.worker()
    run = deployment.dry()
    assert run.code == 0, run.describe()
