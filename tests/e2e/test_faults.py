"""Faults from outside, on the lab: a foreign process on a port, the registry
gone, a host unreachable, a run killed halfway, and a planted secret."""

import json
import os
import secrets
import shlex
import signal
import socket
import subprocess
import time

import pytest
import requests

from lab import control as labctl
from lab import hosts as lab_hosts
from lab import stand_in_registry
from lab.config import REGISTRY_NAME

pytestmark = pytest.mark.e2e


def starts(lab_state) -> dict:
    return {h["name"]: labctl.started_at(lab_state, h) for h in lab_state["hosts"]}


def serving(head) -> bool:
    try:
        return requests.get(f"http://{head['ip']}:8000/health", timeout=10).status_code == 200
    except requests.RequestException:
        return False


def converge(lab_state):
    run = labctl.pyinfra("inventories/lab.py", "deploy/cluster.py")
    assert run.returncode == 0, run.output[-3000:]


def test_port_held_by_a_foreign_process_stops_the_run_naming_it(converged, lab_state, head, workers):
    worker = workers[0]
    code, out = labctl.run_on(lab_state, worker, "sudo docker stop seedcore-ray-worker")
    assert code == 0, out
    lab_hosts.exec(worker["name"], "setsid nohup python3 -m http.server 8080 >/dev/null 2>&1 &")
    time.sleep(1)
    try:
        before = starts(lab_state)
        run = labctl.pyinfra("inventories/lab.py", "deploy/cluster.py")
        assert run.returncode != 0
        assert f"host {worker['name']}: port 8080 (ray_metrics_export_port) is held by python3" in run.output
        assert "nothing was changed on any host" in run.output
        assert "Starting operation" not in run.output
        assert starts(lab_state) == before
        assert serving(head)
    finally:
        lab_hosts.exec(worker["name"], "pkill -f 'http.server 8080' || true")
    converge(lab_state)


def test_registry_down_stops_nothing_and_names_the_image(converged, lab_state, head):
    registry = lab_state["registry"]["address"]
    image = f"{registry}/seedcore/ray:2.20.0-not-pulled-yet"
    inventory = labctl.write_inventory(
        "new_image_registry_down",
        f"""
        for _name, data in ray_head + ray_workers:
            data["ray_image"] = {image!r}
        """,
    )
    before = starts(lab_state)
    subprocess.run(["docker", "stop", REGISTRY_NAME], check=True, capture_output=True)
    try:
        run = labctl.pyinfra(inventory, "deploy/cluster.py")
        assert run.returncode != 0
        assert f"Pull {image}" in run.output
        assert starts(lab_state) == before, "a container was restarted although its pull failed"
        assert serving(head)
        # Pull first, then render: no file names the image the hosts do not have
        # (compose file, env file, release record).
        for host in lab_state["hosts"]:
            code, out = labctl.run_on(lab_state, host, f"sudo grep -rlF {shlex.quote(image)} /opt/seedcore")
            assert code == 1 and out.strip() == "", f"{host['name']}: files name the unpulled image: {out}"
    finally:
        subprocess.run(["docker", "start", REGISTRY_NAME], check=True, capture_output=True)


def test_a_registry_that_never_answers_the_pull_ends_the_run_within_its_bound(converged, lab_state, head):
    """A registry that accepts the connection, answers the ping and never the pull: each
    host's pull is stopped at ray_pull_timeout_s, named with the host and the wait, the run
    exits non-zero, the deploy lock is released and nothing restarts."""
    bound_s = 30
    before = starts(lab_state)
    with stand_in_registry.silent(lab_state) as address:
        image = f"{address}/seedcore/ray:2.20.0-never-answered"
        inventory = labctl.write_inventory(
            "silent_registry",
            f"""
            for _name, data in ray_head + ray_workers:
                data["ray_image"] = {image!r}
                data["ray_pull_timeout_s"] = {bound_s}
                data["ray_pull_tries"] = 1
            """,
        )
        started = time.monotonic()
        run = labctl.pyinfra(inventory, "deploy/cluster.py", timeout=600)
        seconds = round(time.monotonic() - started, 1)
    labctl.record_figure("silent_registry_run_s", seconds)
    assert run.returncode != 0, run.output[-3000:]
    # The pulls run at once on every host: one bound, plus the run's own reads and checks.
    assert seconds < bound_s + 60, seconds
    for host in lab_state["hosts"]:
        said = [line for line in run.output.splitlines() if host["name"] in line
                and f"docker pull {image}: no answer within {bound_s} s, stopped" in line]
        assert said, f"{host['name']}:\n{run.output[-3000:]}"
    code, out = labctl.run_on(lab_state, head, "if sudo test -e /opt/seedcore/deploy.lock; then echo held; "
                                             "else echo released; fi")
    assert out.split() == ["released"], out
    assert starts(lab_state) == before, "a container was restarted although its pull never finished"
    assert serving(head)


def container_env(state, host, container: str) -> list[str]:
    code, out = labctl.run_on(state, host, f"sudo docker inspect -f '{{{{json .Config.Env}}}}' {container}")
    assert code == 0, out
    return json.loads(out)


def test_unreachable_host_is_reported_with_its_reason_and_the_others_converge(
        converged, lab_state, workers):
    lost = workers[-1]
    # A change every host must take, so "the others converge" is something they did in this run.
    inventory = labctl.write_inventory(
        "one_host_unreachable",
        """
        for _name, data in ray_head + ray_workers:
            data["ray_env"] = {"SEEDCORE_UNREACHABLE_RUN": "1"}
        """,
    )
    lab_hosts.exec(lost["name"], "systemctl stop ssh.socket ssh.service")
    try:
        run = labctl.pyinfra(inventory, "deploy/cluster.py")
        assert run.returncode != 0
        report = json.loads((labctl.REPO / "reports" / "verify.json").read_text())
        error = report["hosts"][lost["name"]]["error"]
        # pyinfra's own words for a host whose sshd is down (paramiko's message inside).
        assert error == (
            "not verified: failed earlier in this run: pyinfra could not connect: Could not connect "
            f"([Errno None] Unable to connect to port 22 on {lost['ip']})"
        ), error
        for other in lab_state["hosts"]:
            if other["name"] == lost["name"]:
                continue
            assert report["hosts"][other["name"]]["ok"] is True, report["hosts"][other["name"]]
            container = "seedcore-ray-head" if other["role"] == "head" else "seedcore-ray-worker"
            assert "SEEDCORE_UNREACHABLE_RUN=1" in container_env(lab_state, other, container), other["name"]
    finally:
        lab_hosts.exec(lost["name"], "systemctl start ssh.service")
    # Read once its sshd is back: the lost host was left as it was.
    assert "SEEDCORE_UNREACHABLE_RUN=1" not in container_env(lab_state, lost, "seedcore-ray-worker")
    converge(lab_state)


def test_a_dead_worker_is_red_at_once_not_after_the_timeout(converged, lab_state, head, workers):
    worker = workers[0]
    code, out = labctl.run_on(lab_state, worker, "sudo docker stop seedcore-ray-worker")
    assert code == 0, out
    try:
        started = time.monotonic()
        run = labctl.pyinfra("inventories/lab.py", "deploy/verify.py")
        seconds = round(time.monotonic() - started, 1)
        labctl.record_figure("verify_dead_worker_reported_red_s", seconds)
        assert run.returncode != 0
        # Red is said by the table and one line, not by a traceback per host.
        for noise in ("Traceback", "Unexpected error in Python callback", "No hosts remaining!"):
            assert noise not in run.output, run.output[-3000:]
        red = [line for line in run.output.splitlines() if line.startswith("--> Verify: red on ")]
        assert len(red) == 1 and f"{worker['name']} (" in red[0], run.output[-3000:]
        report = json.loads((labctl.REPO / "reports" / "verify.json").read_text())
        by_check = {c["check"]: c for c in report["hosts"][worker["name"]]["checks"]}
        assert by_check["node alive"]["ok"] is False
        assert by_check["node alive"]["detail"].startswith(
            "container seedcore-ray-worker is exited, not running (red at once"), by_check["node alive"]
        head_checks = {c["check"]: c for c in report["hosts"][head["name"]]["checks"]}
        assert head_checks["alive nodes"]["ok"] is False
        assert f"host {worker['name']}: container seedcore-ray-worker is exited" in \
            head_checks["alive nodes"]["detail"]
        # verify_timeout_s is 300 in the lab: a red that waited for it would take minutes.
        assert seconds < 120, seconds
        assert by_check["node alive"]["seconds"] < 15
    finally:
        converge(lab_state)


def test_verify_without_y_and_without_stdin_asks_nothing_and_exits_0_when_green(converged, lab_state):
    """As cron or CI runs it: no -y, stdin closed, no terminal."""
    done = subprocess.run([labctl.PYINFRA, "inventories/lab.py", "deploy/verify.py"], cwd=labctl.REPO,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=900)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "Press enter" not in output and "EOFError" not in output, output[-3000:]
    assert [line for line in output.splitlines() if line.startswith("--> Verify: green: ")], output[-3000:]


def test_a_second_run_is_refused_while_the_first_holds_the_lock(converged, lab_state, head):
    first = subprocess.Popen(
        [labctl.PYINFRA, "-y", "inventories/lab.py", "deploy/cluster.py"], cwd=labctl.REPO,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    paused = False
    try:
        for line in first.stdout:
            if "--> Beginning operation run" in line:
                break
        # A no-op run takes seconds: held still here (the lock taken, its hosts
        # connected), it cannot finish before the second run asks for the lock.
        os.kill(first.pid, signal.SIGSTOP)
        paused = True
        before = starts(lab_state)
        started = time.monotonic()
        second = labctl.pyinfra("inventories/lab.py", "deploy/cluster.py")
        refused_in = time.monotonic() - started
        assert second.returncode != 0
        lines = [line for line in second.output.splitlines() if "another deploy holds the lock" in line]
        assert len(lines) == 1, second.output[-3000:]
        assert f"host {head['name']}: another deploy holds the lock /opt/seedcore/deploy.lock: " in lines[0]
        assert f"(pid {first.pid}) since " in lines[0]
        assert "Starting operation" not in second.output
        assert refused_in < 60, refused_in
        assert starts(lab_state) == before
    finally:
        if paused:
            os.kill(first.pid, signal.SIGCONT)
        rest = first.communicate(timeout=900)[0]
    assert first.returncode == 0, rest[-3000:]
    code, out = labctl.run_on(lab_state, head, "if sudo test -e /opt/seedcore/deploy.lock; then echo held; "
                                             "else echo released; fi")
    assert out.split() == ["released"], out


def test_a_lock_left_by_a_gone_holder_is_reported_with_how_to_clear_it(converged, lab_state, head):
    owner = json.dumps({"token": "gone", "user": "ops", "machine": socket.gethostname(),
                        "pid": 2 ** 22 + 17, "since": int(time.time()) - 60, "command": "pyinfra old"})
    code, out = labctl.run_on(
        lab_state, head,
        f"sudo mkdir /opt/seedcore/deploy.lock && echo {shlex.quote(owner)} "
        "| sudo tee /opt/seedcore/deploy.lock/owner",
    )
    assert code == 0, out
    try:
        run = labctl.pyinfra("inventories/lab.py", "deploy/cluster.py")
        assert run.returncode != 0
        assert (
            f"that holder is gone (pid {2 ** 22 + 17} no longer runs on {socket.gethostname()}): "
            f"if no deploy is running, ssh to {head['name']} and run "
            "`sudo rm -rf /opt/seedcore/deploy.lock`, then run again; nothing was changed"
        ) in run.output, run.output[-3000:]
        dry = labctl.pyinfra("--dry", "inventories/lab.py", "deploy/cluster.py")
        assert dry.returncode == 0, dry.output[-3000:]
    finally:
        labctl.run_on(lab_state, head, "sudo rm -rf /opt/seedcore/deploy.lock")


def test_run_killed_halfway_then_rerun_converges(converged, lab_state, head):
    inventory = labctl.write_inventory(
        "killed_halfway",
        """
        for _name, data in ray_head + ray_workers:
            data["ray_env"] = {"SEEDCORE_KILLED_RUN": "1"}
        """,
    )
    process = subprocess.Popen(
        [labctl.PYINFRA, "-y", inventory, "deploy/cluster.py"], cwd=labctl.REPO,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    deadline = time.monotonic() + 300
    for line in process.stdout:
        if "Start the Ray head" in line or time.monotonic() > deadline:
            break
    process.send_signal(signal.SIGINT)
    try:
        rest = process.communicate(timeout=60)[0]
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    assert process.returncode == 130, rest[-3000:]
    said = [line for line in rest.splitlines() if "Interrupted (Ctrl-C): " in line]
    assert len(said) == 1, rest[-3000:]
    assert "hosts changed before the interrupt: " in said[0], said[0]
    rerun = f"run `pyinfra -y {inventory} deploy/cluster.py` again: a re-run converges."
    assert said[0].endswith(rerun), said[0]
    run = labctl.pyinfra(inventory, "deploy/cluster.py")
    assert run.returncode == 0, run.output[-3000:]
    assert serving(head)
    converge(lab_state)


def test_a_planted_secret_is_only_where_it_belongs(converged, lab_state, head):
    token = "seedcore-e2e-" + secrets.token_hex(12)
    inventory = labctl.write_inventory(
        "planted_secret",
        """
        for _name, data in ray_head + ray_workers:
            data["ray_secret_env"] = {"SEEDCORE_API_TOKEN": "SEEDCORE_E2E_TOKEN"}
        """,
    )
    run = labctl.pyinfra(inventory, "deploy/cluster.py", env={"SEEDCORE_E2E_TOKEN": token})
    try:
        assert run.returncode == 0, run.output[-3000:]
        assert token not in run.output
        assert token not in (labctl.REPO / "reports" / "verify.json").read_text()
        for host in lab_state["hosts"]:
            _, processes = labctl.run_on(lab_state, host, "ps auxww")
            assert token not in processes, host["name"]
            _, readable = labctl.run_on(lab_state, host, f"grep -rl {token} /opt /etc /tmp 2>/dev/null")
            assert readable.strip() == "", f"{host['name']}: readable by a non-root user: {readable}"
            # The secret is in the compose file's environment: (both Compose versions
            # read it alike there), a file only root can read.
            compose_file = "docker-compose.yml" if host["role"] == "head" else "ray-workers.yml"
            _, as_root = labctl.run_on(lab_state, host, f"sudo grep -rl {token} /opt/seedcore")
            assert as_root.split() == [f"/opt/seedcore/{compose_file}"], host["name"]
            _, mode = labctl.run_on(lab_state, host, f"sudo stat -c '%a %U:%G' /opt/seedcore/{compose_file}")
            assert mode.strip() == "600 root:root", host["name"]
        _, env = labctl.run_on(lab_state, head, "sudo docker exec seedcore-ray-head env")
        assert f"SEEDCORE_API_TOKEN={token}" in env
    finally:
        converge(lab_state)


def test_a_hand_edited_env_and_hand_restart_is_restored_and_restarted(converged, lab_state, workers):
    worker = workers[1]
    key = "RAY_SERVE_PROXY_HEALTH_CHECK_PERIOD_S"
    before = container_env(lab_state, worker, "seedcore-ray-worker")
    rendered = next(e for e in before if e.startswith(f"{key}="))
    code, out = labctl.run_on(
        lab_state, worker,
        f"sudo sed -i 's/^{key}=.*/{key}=977/' /opt/seedcore/ray.env && cd /opt/seedcore && "
        "if sudo docker compose version >/dev/null 2>&1; then c='docker compose'; "
        "else c=docker-compose; fi && "
        "sudo $c -f ray-workers.yml -p seedcore up -d --force-recreate",
        timeout=300,
    )
    assert code == 0, out
    assert f"{key}=977" in container_env(lab_state, worker, "seedcore-ray-worker")
    dry = labctl.pyinfra("--dry", "inventories/lab.py", "deploy/cluster.py")
    assert dry.returncode == 0, dry.output[-3000:]
    stop_rows = [line for line in dry.output.splitlines()
                 if "Stop the Ray worker unless it and its head run the current config" in line]
    assert stop_rows and "1 (" in stop_rows[0] and worker["name"] in stop_rows[0], stop_rows
    converge(lab_state)
    env = container_env(lab_state, worker, "seedcore-ray-worker")
    assert rendered in env and f"{key}=977" not in env


def container_mounts(state, host, container: str) -> list[str]:
    code, out = labctl.run_on(state, host, f"sudo docker inspect -f '{{{{json .Mounts}}}}' {container}")
    assert code == 0, out
    return [mount["Destination"] for mount in json.loads(out)]


def test_a_variable_and_a_mount_added_by_hand_are_named_and_taken_away(converged, lab_state, workers):
    """A worker recreated by hand with one more variable and one more mount, then its
    files put back exactly as rendered: only what the container runs tells the change."""
    worker = workers[0]
    code, out = labctl.run_on(
        lab_state, worker,
        "cd /opt/seedcore && sudo cp -p ray-workers.yml /tmp/rendered.yml && "
        "sudo cp -p ray.env /tmp/rendered.env && "
        "echo SEEDCORE_ADDED_BY_HAND=1 | sudo tee -a ray.env >/dev/null && "
        "sudo sed -i 's|^    volumes:$|&\\n    - /tmp:/added-by-hand:ro|' ray-workers.yml && "
        "if sudo docker compose version >/dev/null 2>&1; then c='docker compose'; "
        "else c=docker-compose; fi && "
        "sudo $c -f ray-workers.yml -p seedcore up -d --force-recreate && "
        "sudo cp -p /tmp/rendered.yml ray-workers.yml && sudo cp -p /tmp/rendered.env ray.env",
        timeout=300,
    )
    assert code == 0, out
    assert "SEEDCORE_ADDED_BY_HAND=1" in container_env(lab_state, worker, "seedcore-ray-worker")
    assert "/added-by-hand" in container_mounts(lab_state, worker, "seedcore-ray-worker")
    dry = labctl.pyinfra("--dry", "inventories/lab.py", "deploy/cluster.py")
    assert dry.returncode == 0, dry.output[-3000:]
    assert (f"host {worker['name']}: container seedcore-ray-worker "
            "env has variables the render does not give: SEEDCORE_ADDED_BY_HAND; "
            "has mounts the render does not give: /added-by-hand: "
            "it will be recreated as rendered") in dry.output, dry.output[-3000:]
    stop_rows = [line for line in dry.output.splitlines()
                 if "Stop the Ray worker unless it and its head run the current config" in line]
    assert stop_rows and "1 (" in stop_rows[0] and worker["name"] in stop_rows[0], stop_rows
    converge(lab_state)
    assert not [e for e in container_env(lab_state, worker, "seedcore-ray-worker")
                if e.startswith("SEEDCORE_ADDED_BY_HAND=")]
    assert "/added-by-hand" not in container_mounts(lab_state, worker, "seedcore-ray-worker")


def test_a_host_frozen_mid_run_is_given_up_and_named_within_its_bound(converged, lab_state, head, workers):
    """A worker paused mid-run (as a frozen VM is: connected, then its sshd never answers):
    its connection is given up after about interval x 2 x count_max seconds, the run names
    it and exits non-zero instead of hanging on it."""
    worker = workers[0]
    command = [labctl.PYINFRA, "-y", "inventories/lab.py", "deploy/verify.py",
               "--data", "connection_alive_interval_s=2", "--data", "connection_alive_count_max=3",
               "--data", "verify_timeout_s=60"]
    run = subprocess.Popen(command, cwd=labctl.REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
    output, paused = [], False
    try:
        deadline = time.monotonic() + 300
        for line in run.stdout:
            output.append(line)
            if not paused and "Starting operation" in line:
                subprocess.run(["docker", "pause", worker["name"]], check=True, capture_output=True,
                               timeout=60)
                paused = True
            assert time.monotonic() < deadline, "".join(output[-50:])
        code = run.wait(timeout=60)
    finally:
        run.kill()
        if paused:
            subprocess.run(["docker", "unpause", worker["name"]], check=True, capture_output=True, timeout=60)
    text = "".join(output)
    assert paused, text[-3000:]
    assert code != 0, text[-3000:]
    given_up = f"--> host {worker['name']}: no answer over SSH for about 12 s (3 asks, 2 s apart)"
    assert given_up in text, text[-3000:]
    assert serving(head)
