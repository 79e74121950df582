"""The whole cycle behind a bastion: the converged lab is put behind one
(`python -m lab up --bastion`), so this machine reaches the hosts only by SSH
through it, as its own user; every check travels over the deploy's SSH.

Runs last (the module name): it takes the session's converged lab over, and
gives it back without the bastion."""

import socket

import pytest

from lab import control as labctl
from lab import lifecycle as lab_lifecycle
from tests.e2e.conftest import LAB_DISTROS, LAB_HOSTS

RELEASE = "behind-the-bastion"


def _up(*extra: str) -> dict:
    result = labctl.lab("up", "--hosts", str(LAB_HOSTS), "--distros", LAB_DISTROS, *extra)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    return labctl.load_state()


@pytest.fixture(scope="module")
def behind(converged):
    state = _up("--bastion")
    yield state
    _up()


def _connects(ip: str, port: int) -> bool:
    try:
        with socket.create_connection((ip, port), timeout=5):
            return True
    except OSError:
        return False


def _release_inventory(record_dir: str) -> str:
    return labctl.write_inventory(
        "bastion_release",
        f"""
        for _name, data in ray_head + ray_workers:
            data["rollout_record_dir"] = {record_dir!r}
        for _name, data in ray_workers:
            data["ray_env"] = {{"SEEDCORE_RELEASE": {RELEASE!r}}}
        """,
    )


def _green_verify_rows(output: str) -> list[str]:
    table = output.split("--> Verify report", 1)[1].split("\n\n", 1)[0]
    return [line for line in table.splitlines()[2:] if line.strip()]


def test_this_machine_reaches_the_hosts_only_by_ssh_to_the_bastion(behind):
    head = next(h for h in behind["hosts"] if h["role"] == "head")
    workers = [h for h in behind["hosts"] if h["role"] == "worker"]
    assert behind["bastion"]["user"] != behind["ssh_user"]
    assert _connects(behind["bastion"]["ip"], 22)
    refused = [(head["ip"], 22), (head["ip"], 8265), (head["ip"], 8000), (workers[0]["ip"], 8080),
               (workers[-1]["ip"], 9090), (workers[-1]["ip"], 22)]
    assert [target for target in refused if _connects(*target)] == []


def test_a_converge_through_the_bastion_restarts_nothing_and_verifies_green(behind):
    before = {h["name"]: labctl.started_at(behind, h) for h in behind["hosts"]}
    run = labctl.pyinfra("inventories/lab.py", "deploy/cluster.py")
    assert run.returncode == 0, run.output[-4000:]
    after = {h["name"]: labctl.started_at(behind, h) for h in behind["hosts"]}
    assert after == before
    rows = _green_verify_rows(run.output)
    assert rows and all("  ok  " in row for row in rows), "\n".join(rows)
    monitoring = run.output.split("--> Monitoring checks", 1)[1].split("\n\n", 1)[0]
    assert "through its SSH connection" in monitoring
    assert "FAIL" not in monitoring, monitoring

    verify = labctl.pyinfra("inventories/lab.py", "deploy/verify.py")
    assert verify.returncode == 0, verify.output[-4000:]


def test_a_rollout_and_a_rebuild_through_the_bastion(behind, tmp_path):
    inventory = _release_inventory(str(tmp_path))
    workers = [h for h in behind["hosts"] if h["role"] == "worker"]
    run = labctl.pyinfra(inventory, "deploy/rollout.py")
    assert run.returncode == 0, run.output[-4000:]
    for worker in workers:
        assert f"[{worker['name']}] back: " in run.output, run.output[-3000:]
        _, env = labctl.run_on(behind, worker, "sudo docker exec seedcore-ray-worker env")
        assert f"SEEDCORE_RELEASE={RELEASE}" in env

    lost = workers[0]
    lab_lifecycle.recreate(lost["name"])
    code, out = labctl.run_on(behind, lost, "command -v docker || echo bare")
    assert (code, out.strip()) == (0, "bare")
    rebuild = labctl.pyinfra(inventory, "deploy/rebuild.py")
    assert rebuild.returncode == 0, rebuild.output[-4000:]
    rows = _green_verify_rows(rebuild.output)
    assert any(row.startswith(lost["name"]) and "node alive" in row for row in rows), "\n".join(rows)
    assert all("  ok  " in row for row in rows), "\n".join(rows)


def test_two_hops_the_bastion_then_the_head(behind, tmp_path):
    head = next(h for h in behind["hosts"] if h["role"] == "head")
    target = next(h for h in behind["hosts"] if h["role"] == "worker")
    jump = behind["bastion"]
    config = tmp_path / "ssh_config"
    common = (f"    IdentityFile {behind['ssh_key']}\n    IdentitiesOnly yes\n"
              f"    UserKnownHostsFile {behind['known_hosts']}\n    StrictHostKeyChecking yes\n")
    config.write_text(
        f"Host {jump['ip']}\n    User {jump['user']}\n{common}\n"
        f"Host {head['ip']}\n    User {behind['ssh_user']}\n{common}\n"
        f"Host {target['ip']}\n    ProxyJump {jump['user']}@{jump['ip']},{behind['ssh_user']}@{head['ip']}\n"
    )
    inventory = labctl.write_inventory(
        "two_hops",
        f"""
        ray_head, ray_workers, monitoring = [], [], []
        from lab.inventory import host_entry
        from lab.state import load
        _state = load()
        _name, _data = host_entry(_state, next(h for h in _state["hosts"] if h["name"] == {target['name']!r}))
        _data["ssh_config_file"] = {str(config)!r}
        _data["_sudo"] = False  # sudo would drop SSH_CONNECTION from the environment
        two_hops = [(_name, _data)]
        """,
    )
    run = labctl.pyinfra(inventory, "exec", "--", "echo client=$SSH_CONNECTION")
    assert run.returncode == 0, run.output[-3000:]
    # sshd on the target saw the connection come from the head, the second hop.
    assert f"client={head['ip']} " in run.output, run.output[-2000:]


def test_a_bastion_refusing_our_user_stops_the_run_in_one_line_before_any_host(behind, tmp_path):
    config = tmp_path / "ssh_config"
    jump = behind["bastion"]
    config.write_text(open(jump["ssh_config"]).read().replace(f"User {jump['user']}", "User nobody"))
    inventory = labctl.write_inventory(
        "refusing_bastion",
        f"""
        for _name, data in ray_head + ray_workers:
            data["ssh_config_file"] = {str(config)!r}
        """,
    )
    run = labctl.pyinfra(inventory, "deploy/cluster.py")
    assert run.returncode != 0
    lines = [line.strip() for line in run.output.splitlines() if "the bastion " in line]
    assert len(lines) == 1, run.output[-3000:]
    assert f"the bastion {jump['alias']} (ProxyJump of " in lines[0]
    assert "refused the login of user nobody" in lines[0]
    assert "nothing was changed on any host" in run.output
    assert "--> Connecting to hosts" not in run.output
