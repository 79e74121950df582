"""The shell command builders, read as text and run with bash against fake tools."""

import base64
import os
import shlex
import stat
import subprocess
import time

from seedcore import commands
from tests.harness import make_node
from tests.shell import effect, same_effect


def _fake_tool(directory, name, script):
    path = directory / name
    path.write_text("#!/bin/bash\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def _bash(command, bin_dir, timeout=30, stdin=None):
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    return subprocess.run(["bash", "-c", command], capture_output=True, text=True, env=env, timeout=timeout,
                          input=stdin)


# --------------------------------------------------------------------------- compose

def test_compose_v2_head_up(head_node):
    assert same_effect(commands.compose_up(commands.COMPOSE_V2, head_node), (
        "cd /opt/seedcore && docker compose -f docker-compose.yml -p seedcore --profile ray "
        "up -d --remove-orphans"
    ))


def test_compose_v1_worker_up(worker_node):
    assert same_effect(commands.compose_up(commands.COMPOSE_V1, worker_node), (
        "cd /opt/seedcore && docker-compose -f ray-workers.yml -p seedcore up -d --remove-orphans"
    ))


def test_compose_down_never_removes_volumes(head_node, worker_node):
    for cli in (commands.COMPOSE_V1, commands.COMPOSE_V2):
        for node in (head_node, worker_node):
            words = shlex.split(commands.compose_down(cli, node))
            assert "down" in words
            assert "-v" not in words and "--volumes" not in words
    assert same_effect(commands.compose_down(commands.COMPOSE_V2, head_node), (
        "cd /opt/seedcore && docker compose -f docker-compose.yml -p seedcore --profile ray "
        "down --remove-orphans"
    ))


def test_compose_quotes_the_project_dir_and_names():
    node = make_node(settings={"ray_project_dir": "/srv/seed core", "ray_compose_project": "prod;rm"})
    command = commands.compose_up(commands.COMPOSE_V2, node)
    cd, _, compose = effect(command)
    assert cd.call == ("cd", "/srv/seed core")
    # The project name is one word, not a second command.
    assert compose.call[:4] == ("compose", "docker compose", "prod;rm", frozenset({"docker-compose.yml"}))


def test_compose_runs_from_the_project_dir(tmp_path):
    project = tmp_path / "my project"
    project.mkdir()
    _fake_tool(tmp_path, "docker-compose", 'pwd; printf "%s\\n" "$@"\n')
    result = _bash(commands.compose(commands.COMPOSE_V1, str(project), "ray-workers.yml", "seedcore", "ps"),
                   tmp_path)
    assert result.returncode == 0
    directory, *words = result.stdout.splitlines()
    assert directory == str(project)
    ran = shlex.join(["docker-compose", *words])
    assert same_effect(ran, "docker-compose -f ray-workers.yml -p seedcore ps")


# --------------------------------------------------------------------------- wait_healthy

def test_wait_healthy_text_names_the_deadline_and_container():
    command = commands.wait_healthy("seedcore-ray-head", 180)
    assert "+ 180 ))" in command
    assert 'echo seedcore-ray-head" not healthy after 180s (last status: $status)" >&2' in command
    assert ("docker inspect -f '{{.State.Health.Status}} {{.State.Status}} "
            "{{.HostConfig.RestartPolicy.Name}}' seedcore-ray-head") in command


def test_wait_healthy_succeeds_when_docker_says_healthy(tmp_path):
    _fake_tool(tmp_path, "docker", '[ "$1" = inspect ] && echo healthy\n')
    result = _bash(commands.wait_healthy("seedcore-ray-head", 30), tmp_path)
    assert result.returncode == 0
    assert result.stderr == ""


PROBE = "http://127.0.0.1:8265/api/gcs_healthz"


def test_wait_healthy_takes_the_probe_answering_before_dockers_first_check(tmp_path):
    """Docker checks every 5 s; the same probe, asked every second, may answer first."""
    _fake_tool(tmp_path, "docker", '[ "$1" = inspect ] && echo starting\n')
    _fake_tool(tmp_path, "curl", f'echo "$@" >> {tmp_path}/curl.log; exit 0\n')
    result = _bash(commands.wait_healthy("seedcore-ray-head", 30, PROBE), tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "curl.log").read_text() == f"-fsS -o /dev/null -m 5 {PROBE}\n"


def test_wait_healthy_never_takes_the_probe_of_a_container_docker_calls_unhealthy(tmp_path):
    _fake_tool(tmp_path, "docker", 'case "$1" in inspect) echo unhealthy ;; esac\n')
    _fake_tool(tmp_path, "curl", "exit 0\n")
    result = _bash(commands.wait_healthy("seedcore-ray-head", 0, PROBE), tmp_path)
    assert result.returncode == 1
    assert "seedcore-ray-head not healthy after 0s (last status: unhealthy)" in result.stderr


def test_wait_healthy_keeps_waiting_while_the_probe_fails(tmp_path):
    _fake_tool(tmp_path, "docker", 'case "$1" in inspect) echo starting ;; esac\n')
    _fake_tool(tmp_path, "curl", "exit 7\n")
    result = _bash(commands.wait_healthy("seedcore-ray-worker", 0, PROBE), tmp_path)
    assert result.returncode == 1
    assert "seedcore-ray-worker not healthy after 0s (last status: starting)" in result.stderr


def test_wait_healthy_gives_up_at_the_deadline(tmp_path):
    _fake_tool(tmp_path, "docker", (
        'case "$1" in inspect) echo starting ;; logs) echo "raylet: waiting for GCS" ;; esac\n'
    ))
    result = _bash(commands.wait_healthy("seedcore-ray-worker", 1), tmp_path)
    assert result.returncode == 1
    assert "seedcore-ray-worker not healthy after 1s (last status: starting)" in result.stderr
    assert "raylet: waiting for GCS" in result.stderr


def test_wait_healthy_stops_at_once_on_a_missing_container(tmp_path):
    _fake_tool(tmp_path, "docker", 'echo "Error: No such object: $4" >&2; exit 1\n')
    result = _bash(commands.wait_healthy("seedcore-ray-head", 300), tmp_path)
    assert result.returncode == 1
    assert ("seedcore-ray-head cannot turn healthy: it is missing and Docker will not start it again "
            "(last status: missing)") in result.stderr


def test_wait_healthy_stops_at_once_on_an_exited_container_docker_will_not_restart(tmp_path):
    _fake_tool(tmp_path, "docker", (
        'case "$1" in inspect) echo "unhealthy exited no" ;; logs) echo "raylet: fatal" ;; esac\n'))
    result = _bash(commands.wait_healthy("seedcore-ray-worker", 300), tmp_path)
    assert result.returncode == 1
    assert "seedcore-ray-worker cannot turn healthy: it is exited" in result.stderr
    assert "raylet: fatal" in result.stderr


def test_wait_healthy_names_rays_fatal_line_above_a_long_backtrace(tmp_path):
    """A head that cannot speak TLS to the GCS store aborts with one `Check failed`
    line, then a backtrace longer than the 30 lines of the tail."""
    fatal = ("[C 1 1] (ray_init) redis_context.cc:484:  Check failed: redisInitiateSSLWithContext(...) "
             "Failed to setup encrypted redis: SSL_connect failed: CERTIFICATE_VERIFY_FAILED")
    _fake_tool(tmp_path, "docker", (
        'case "$1" in inspect) echo "unhealthy exited no" ;; '
        f'logs) {{ echo "starting"; echo {shlex.quote(fatal)}; seq 1 60; }} | tail -n "$3" ;; esac\n'))
    result = _bash(commands.wait_healthy("seedcore-ray-head", 300), tmp_path)
    assert result.returncode == 1
    assert f"Ray fatal: {fatal}" in result.stderr.splitlines()
    assert "starting" not in result.stderr


def test_wait_healthy_keeps_waiting_on_an_exited_container_docker_restarts(tmp_path):
    _fake_tool(tmp_path, "docker", 'case "$1" in inspect) echo "unhealthy exited unless-stopped" ;; esac\n')
    result = _bash(commands.wait_healthy("seedcore-ray-worker", 1), tmp_path)
    assert result.returncode == 1
    assert "seedcore-ray-worker not healthy after 1s (last status: unhealthy)" in result.stderr


# --------------------------------------------------------------------------- ports_free

SS_LINE = 'LISTEN 0      4096         0.0.0.0:8265       0.0.0.0:*    users:(("python",pid=812,fd=14))'


def test_ports_free_checks_each_port_once_in_order():
    command = commands.ports_free([8265, 6379, 8265])
    assert "for port in 6379 8265;" in command


def test_ports_free_passes_when_nothing_listens(tmp_path):
    _fake_tool(tmp_path, "ss", "exit 0\n")
    result = _bash(commands.ports_free([6379, 8265]), tmp_path)
    assert result.returncode == 0
    assert result.stderr == ""


def test_ports_free_names_the_holder(tmp_path):
    _fake_tool(tmp_path, "ss", f'case "$*" in *"sport = :8265"*) echo \'{SS_LINE}\' ;; esac\n')
    result = _bash(commands.ports_free([6379, 8265, 8000]), tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [f"port 8265 is still held: {SS_LINE}"]


# --------------------------------------------------------------------------- refuse, remove, pull

def test_refuse_fails_with_the_message(tmp_path):
    message = "not starting seedcore-ray-worker: host head-1 (the Ray head) failed; it's down"
    result = _bash(commands.refuse(message), tmp_path)
    assert result.returncode == 1
    assert result.stderr == message + "\n"
    assert result.stdout == ""


def test_remove_labelled_containers_removes_only_the_selected(tmp_path):
    calls = tmp_path / "calls"
    _fake_tool(tmp_path, "docker", f"""
echo "$*" >> {calls}
if [ "$1" = ps ]; then printf '3f1c9a7e5b2d\\nc0ffee11d00d\\n'; fi
""")
    command = commands.remove_labelled_containers("io.seedcore.managed-by", "seedcore deploy")
    result = _bash(command, tmp_path)
    assert result.returncode == 0
    assert calls.read_text().splitlines() == [
        "ps -aq --filter label=io.seedcore.managed-by=seedcore deploy",
        "rm -f 3f1c9a7e5b2d c0ffee11d00d",
    ]


def test_remove_labelled_containers_does_nothing_when_none_match(tmp_path):
    calls = tmp_path / "calls"
    _fake_tool(tmp_path, "docker", f'echo "$*" >> {calls}\n')
    result = _bash(commands.remove_labelled_containers("io.seedcore.managed-by", "seedcore-deploy"), tmp_path)
    assert result.returncode == 0
    assert calls.read_text().splitlines() == ["ps -aq --filter label=io.seedcore.managed-by=seedcore-deploy"]


def test_a_pull_that_fails_is_tried_again_up_to_its_tries(tmp_path):
    calls = tmp_path / "calls"
    # Fails twice, then pulls.
    _fake_tool(tmp_path, "docker", f'echo "$*" >> {calls}\n[ $(wc -l < {calls}) -ge 3 ]\n')
    result = _bash(commands.pull("ray:2.20.0", timeout_s=30, tries=3, pause_s=0), tmp_path)
    assert result.returncode == 0, result.stderr
    assert calls.read_text() == "pull ray:2.20.0\n" * 3
    assert result.stderr.count("docker pull ray:2.20.0: failed, trying again") == 2


def test_a_pull_that_keeps_failing_gives_up_after_its_tries_naming_them(tmp_path):
    calls = tmp_path / "calls"
    _fake_tool(tmp_path, "docker", f'echo "$*" >> {calls}\nexit 1\n')
    result = _bash(commands.pull("ray:2.20.0", timeout_s=30, tries=2, pause_s=0), tmp_path)
    assert result.returncode == 1
    assert calls.read_text() == "pull ray:2.20.0\n" * 2
    assert result.stderr.endswith("docker pull ray:2.20.0: failed 2 time(s), giving up\n")


def test_a_registry_that_never_answers_stops_the_pull_at_its_bound(tmp_path):
    _fake_tool(tmp_path, "docker", "sleep 30\n")
    started = time.monotonic()
    result = _bash(commands.pull("ray:2.20.0", timeout_s=1, tries=1, pause_s=0), tmp_path)
    assert time.monotonic() - started < 10
    assert result.returncode == 1
    assert "docker pull ray:2.20.0: no answer within 1 s, stopped" in result.stderr


def test_a_command_that_ignores_the_stop_is_killed(tmp_path):
    command = "trap '' TERM; sleep 30"
    started = time.monotonic()
    result = _bash(commands.bounded(command, 1, "a stubborn step"), tmp_path)
    assert time.monotonic() - started < commands.KILL_AFTER_S + 5
    assert result.returncode in commands.TIMED_OUT
    assert result.stderr.endswith("a stubborn step: no answer within 1 s, stopped\n")


def test_a_bounded_command_keeps_its_own_status_and_output(tmp_path):
    result = _bash(commands.bounded("echo out; echo err >&2; exit 3", 30, "a step"), tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (3, "out\n", "err\n")


def test_serve_deploy_then_records_the_marker(tmp_path):
    calls = tmp_path / "calls"
    marker = tmp_path / "marker"
    _fake_tool(tmp_path, "docker", f'echo "$*" >> {calls}\n')
    command = commands.serve_deploy("seedcore-ray-head", "/srv/seedcore/serve/serve.yaml", str(marker),
                                    "5d41402abc4b2a76 3f1c9a7e5b2d")
    assert _bash(command, tmp_path).returncode == 0
    assert calls.read_text() == "exec seedcore-ray-head serve deploy /srv/seedcore/serve/serve.yaml\n"
    assert marker.read_text() == "5d41402abc4b2a76 3f1c9a7e5b2d\n"


def test_serve_deploy_failure_leaves_the_marker_alone(tmp_path):
    marker = tmp_path / "marker"
    marker.write_text("old\n")
    _fake_tool(tmp_path, "docker", "echo 'ConnectionError: dashboard not reachable' >&2; exit 1\n")
    command = commands.serve_deploy("seedcore-ray-head", "/srv/seedcore/serve/serve.yaml", str(marker), "new")
    assert _bash(command, tmp_path).returncode == 1
    assert marker.read_text() == "old\n"


def test_registry_login_gives_docker_the_password_and_keeps_only_the_digest(tmp_path):
    seen = tmp_path / "password-seen"
    _fake_tool(tmp_path, "docker", f'cat > {seen}\n')
    record = tmp_path / "logins" / "registry"
    password = "pa ss\\w0rd 'x' $y"
    result = _bash(commands.registry_login("reg.example.com", "deploy", str(record)), tmp_path,
                   stdin=base64.b64encode(f"0123abcd\n{password}".encode()).decode())
    assert result.returncode == 0, result.stderr
    assert seen.read_text() == password
    assert record.read_text() == "0123abcd\n"
    assert stat.S_IMODE(record.stat().st_mode) == 0o600
    assert stat.S_IMODE(record.parent.stat().st_mode) == 0o700


def test_a_refused_login_records_nothing(tmp_path):
    _fake_tool(tmp_path, "docker", "echo 'unauthorized: incorrect username or password' >&2; exit 1\n")
    record = tmp_path / "logins" / "registry"
    result = _bash(commands.registry_login("reg.example.com", "deploy", str(record)), tmp_path,
                   stdin=base64.b64encode(b"0123abcd\nwrong").decode())
    assert result.returncode == 1 and not record.exists()


def test_archives_over_their_size_are_pruned_oldest_first_keeping_the_newest(tmp_path):
    root = tmp_path / "archive"
    for stamp in ("20261101T000000Z", "20261102T000000Z", "20261103T000000Z"):
        (root / stamp).mkdir(parents=True)
        (root / stamp / "ray-logs").write_bytes(os.urandom(3 * 1024 * 1024))
    result = _bash(commands.prune_archives(str(root), keep=10, max_mb=5), tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in root.iterdir()) == ["20261103T000000Z"]
    assert result.stdout.splitlines() == [
        f"removed {root}/20261101T000000Z (archives over 5 MiB)",
        f"removed {root}/20261102T000000Z (archives over 5 MiB)",
    ]
    # However large, the newest stays.
    assert _bash(commands.prune_archives(str(root), keep=1, max_mb=1), tmp_path).stdout == ""
    assert (root / "20261103T000000Z").is_dir()
