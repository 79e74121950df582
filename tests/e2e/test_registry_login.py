"""The registry's password rotated: the lab registry given basic auth (a stand-in
at its address, on its storage), the hosts logged in with one password, then the
registry told to accept only another: the next run logs in again and pulls."""

import base64
import json
import secrets
import shlex
import threading

import pytest

from lab import control as labctl
from lab import stand_in_registry

pytestmark = pytest.mark.e2e

USER = "seedcore-pull"
PASSWORD_ENV = "SEEDCORE_LAB_REGISTRY_PASSWORD"
LOGINS = "/etc/seedcore/registry-logins"
# Every process's command line on the worker, sampled until the stop file appears (bounded).
STOP = "/tmp/seedcore-argv-sampling-stop"
SAMPLE_ARGV = (f"rm -f {STOP}; timeout 600 sh -c 'while [ ! -e {STOP} ]; do ps -eo args=; sleep 0.1; done' "
               "| sort -u")


def starts(lab_state) -> dict:
    return {h["name"]: labctl.started_at(lab_state, h) for h in lab_state["hosts"]}


def login_inventory(address: str, worker: str, image: str) -> str:
    """Every host logs in to the registry; only `worker` runs `image`."""
    return labctl.write_inventory(
        "registry_login",
        f"""
        for _name, data in ray_head + ray_workers:
            data["docker_registry_login"] = {address!r}
            data["docker_registry_user"] = {USER!r}
            data["docker_registry_password_env"] = {PASSWORD_ENV!r}
            if _name == {worker!r}:
                data["ray_image"] = {image!r}
        """,
    )


def run_sampling_argv(lab_state, worker, image: str, password: str):
    """A run that logs every host in with `password` and gives `worker` `image`, with the
    worker's process command lines sampled while it runs."""
    inventory = login_inventory(lab_state["registry"]["address"], worker["name"], image)
    sampled = {}
    sampler = threading.Thread(
        target=lambda: sampled.update(out=labctl.run_on(lab_state, worker, SAMPLE_ARGV, timeout=660)[1]))
    sampler.start()
    try:
        run = labctl.pyinfra(inventory, "deploy/cluster.py", env={PASSWORD_ENV: password})
    finally:
        labctl.run_on(lab_state, worker, f"touch {STOP}")
        sampler.join(timeout=60)
    return run, sampled.get("out", "")


def login_record(lab_state, host) -> str:
    code, out = labctl.run_on(lab_state, host, f"sudo sh -c 'cat {LOGINS}/*'")
    assert code == 0, out
    return out.strip()


def docker_auth(lab_state, host, address: str) -> str:
    """user:password as the host's Docker keeps it for `address`."""
    code, out = labctl.run_on(lab_state, host, "sudo cat /root/.docker/config.json")
    assert code == 0, out
    return base64.b64decode(json.loads(out)["auths"][address]["auth"]).decode()


def running_image(lab_state, host) -> str:
    code, out = labctl.run_on(lab_state, host,
                              "sudo docker inspect -f '{{.Config.Image}}' seedcore-ray-worker")
    assert code == 0, out
    return out.strip()


def test_a_rotated_registry_password_logs_in_again_and_pulls(converged, lab_state, workers):
    worker = workers[0]
    address = lab_state["registry"]["address"]
    password_a, password_b = secrets.token_urlsafe(18), secrets.token_urlsafe(18)
    # Two more tags of the lab's image: one pulled with each password.
    image_a = stand_in_registry.add_tag(lab_state, "2.20.0-login-a")
    image_b = stand_in_registry.add_tag(lab_state, "2.20.0-login-b")
    before = starts(lab_state)
    try:
        with stand_in_registry.with_auth(USER, password_a) as stand_in:
            assert stand_in_registry.status_as() == 401, "the stand-in registry lets anyone in"
            assert stand_in_registry.status_as(USER, password_a) == 200

            run_a, argv_a = run_sampling_argv(lab_state, worker, image_a, password_a)
            assert run_a.returncode == 0, run_a.output[-3000:]
            assert running_image(lab_state, worker) == image_a
            record_a = login_record(lab_state, worker)

            stand_in.set_password(USER, password_b)
            assert stand_in_registry.status_as(USER, password_a) == 401, "the old password is still accepted"
            assert stand_in_registry.status_as(USER, password_b) == 200

            run_b, argv_b = run_sampling_argv(lab_state, worker, image_b, password_b)
            assert run_b.returncode == 0, run_b.output[-3000:]
            assert running_image(lab_state, worker) == image_b
            # Logged in again: another digest kept, Docker holds the new password.
            assert login_record(lab_state, worker) != record_a
            assert docker_auth(lab_state, worker, address) == f"{USER}:{password_b}"
            # Only the worker whose image changed was recreated.
            after = starts(lab_state)
            assert {name: at for name, at in after.items() if name != worker["name"]} == \
                {name: at for name, at in before.items() if name != worker["name"]}

            assert argv_a and argv_b, "the worker's command lines were not sampled"
            for password in (password_a, password_b):
                assert password not in run_a.output + run_b.output, "a password is in the run's output"
                assert password not in argv_a + argv_b, "a password is on a command line on the worker"
                # Only Docker's own config.json holds it (base64): no file of ours. The
                # password reaches grep on its stdin, never a command line.
                for host in lab_state["hosts"]:
                    code, out = labctl.run_on(
                        lab_state, host, "sudo grep -rlF -f /dev/stdin /etc/seedcore /opt/seedcore; "
                        "echo status=$?", stdin=password + "\n")
                    assert out.split()[-1:] == ["status=1"], f"{host['name']}: the password is in {out}"
    finally:
        for host in lab_state["hosts"]:
            labctl.run_on(lab_state, host, f"sudo docker logout {shlex.quote(address)}; sudo rm -rf {LOGINS}")
        run = labctl.pyinfra("inventories/lab.py", "deploy/cluster.py")
        assert run.returncode == 0, run.output[-3000:]
    assert running_image(lab_state, worker) == lab_state["ray_image"]
