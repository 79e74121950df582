"""Every fixture under tests/facts/<module>.<Fact>/<case>.json.

A fixture, in pyinfra's own format, gives the fact's arguments (`arg`), the
command they make (`command`, required; compared by what it does,
tests/shell.py: argv lists run in turn, or a script's text), the lines the host
printed (`output`) and the value the fact must make of them (`fact`),
compared as JSON (so integer keys are written as strings).
"""

import importlib
import json
import os
import stat
import subprocess

import pytest

from tests.harness import TESTS_DIR, command_text, load_cases
from tests.shell import assert_same_commands

FACTS_DIR = TESTS_DIR / "facts"
CASES = load_cases(FACTS_DIR)


def _fact_class(fact_name: str):
    module_name, _, class_name = fact_name.rpartition(".")
    return getattr(importlib.import_module(f"seedcore.facts.{module_name}"), class_name)


@pytest.mark.parametrize(
    ("fact_name", "case", "fixture"),
    CASES,
    ids=[f"{fact_name}/{case}" for fact_name, case, _ in CASES],
)
def test_fact(fact_name, case, fixture):
    fact = _fact_class(fact_name)()
    assert "command" in fixture, f"{fact_name}/{case}: pin the exact command"
    assert_same_commands([command_text(fact.command(**fixture.get("arg", {})))], [fixture["command"]])

    data = fact.process(fixture["output"])

    assert json.loads(json.dumps(data)) == fixture["fact"]


def test_every_fact_fixture_pins_its_command():
    assert [f"{fact_name}/{case}" for fact_name, case, fixture in CASES if "command" not in fixture] == []


def test_every_fact_has_fixtures():
    for module_name in ("apt", "bundle", "docker", "gpu", "host", "ray"):
        module = importlib.import_module(f"seedcore.facts.{module_name}")
        for name, value in vars(module).items():
            if isinstance(value, type) and value.__module__ == module.__name__ and hasattr(value, "process"):
                assert (FACTS_DIR / f"{module_name}.{name}").is_dir(), f"no fixtures for {module_name}.{name}"


def test_listening_ports_keys_are_integers():
    from seedcore.facts.host import ListeningPorts

    ports = ListeningPorts().process([
        'LISTEN 0      4096         0.0.0.0:8265       0.0.0.0:*    users:(("python",pid=812,fd=14))',
        "--- cgroups",
        "812 ",
    ])
    assert list(ports) == [8265]


# The commands themselves, run with bash against fake tools on PATH: their
# output must be what `process` expects.

def _fake_tool(directory, name, script):
    path = directory / name
    path.write_text("#!/bin/bash\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def _run(command, bin_dir):
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    result = subprocess.run(["bash", "-c", command_text(command)], capture_output=True, text=True, env=env,
                            timeout=30)
    return result.stdout.splitlines()


def test_docker_engine_command_reports_running_version(tmp_path):
    from seedcore.facts.docker import DockerEngine

    _fake_tool(tmp_path, "docker", 'echo "27.3.1"\n')
    fact = DockerEngine()
    assert fact.process(_run(fact.command(), tmp_path)) == {
        "installed": True, "running": True, "version": "27.3.1",
    }


def test_docker_engine_command_reports_a_daemon_that_does_not_answer(tmp_path):
    from seedcore.facts.docker import DockerEngine

    _fake_tool(tmp_path, "docker", "echo 'Cannot connect to the Docker daemon' >&2; exit 1\n")
    fact = DockerEngine()
    assert fact.process(_run(fact.command(), tmp_path)) == {
        "installed": True, "running": False, "version": "",
    }


def test_compose_cli_command_prefers_the_plugin(tmp_path):
    from seedcore.facts.docker import ComposeCli

    _fake_tool(tmp_path, "docker", '[ "$1 $2" = "compose version" ] && exit 0; exit 1\n')
    _fake_tool(tmp_path, "docker-compose", "exit 0\n")
    fact = ComposeCli()
    assert fact.process(_run(fact.command(), tmp_path)) == "docker compose"


def test_compose_cli_command_falls_back_to_v1(tmp_path):
    from seedcore.facts.docker import ComposeCli

    _fake_tool(tmp_path, "docker", "echo \"docker: 'compose' is not a docker command.\" >&2; exit 1\n")
    _fake_tool(tmp_path, "docker-compose", "exit 0\n")
    fact = ComposeCli()
    assert fact.process(_run(fact.command(), tmp_path)) == "docker-compose"


def test_log_signature_counts_command_counts_each_signature(tmp_path):
    from seedcore.facts.docker import LogSignatureCounts

    _fake_tool(tmp_path, "docker", (
        'echo "2024-06-10 08:15:03,112 INFO usage_lib.py:467 -- Usage stats collection is disabled."\n'
        'echo "OSError: [Errno 98] Address already in use" >&2\n'
        'echo "  assert not dest.done()"\n'
        'echo "OSError: [Errno 98] Address already in use"\n'
    ))
    fact = LogSignatureCounts()
    signatures = ["Address already in use", "assert not dest.done()", "can't happen"]
    output = _run(fact.command(container="seedcore-ray-head", signatures=signatures), tmp_path)
    assert fact.process(output) == {
        "Address already in use": 2,
        "assert not dest.done()": 1,
        "can't happen": 0,
    }


def test_log_signature_counts_of_a_missing_container_are_none(tmp_path):
    from seedcore.facts.docker import LogSignatureCounts

    # As Docker answers for a container that is not there.
    _fake_tool(tmp_path, "docker", 'echo "Error response from daemon: No such container: $2" >&2; exit 1\n')
    fact = LogSignatureCounts()
    command = fact.command(container="seedcore-ray-worker", signatures=["Address already in use"])
    output = _run(command, tmp_path)
    assert fact.process(output) is None


def test_log_signature_counts_ask_docker_once_while_the_container_is_there(tmp_path):
    from seedcore.facts.docker import LogSignatureCounts

    calls = tmp_path / "calls"
    _fake_tool(tmp_path, "docker", f'echo "$1" >> {calls}\n'
                                   'echo "OSError: [Errno 98] Address already in use"\n')
    fact = LogSignatureCounts()
    command = fact.command(container="seedcore-ray-head", signatures=["Address already in use"])
    output = _run(command, tmp_path)
    assert fact.process(output) == {"Address already in use": 1}
    assert calls.read_text().split() == ["logs"]


def test_log_signature_counts_of_logs_docker_cannot_read_count_what_it_said(tmp_path):
    """A container that is there but whose logs Docker cannot read (its logging
    driver keeps none): counted, not taken for a missing container."""
    from seedcore.facts.docker import LogSignatureCounts

    _fake_tool(tmp_path, "docker", (
        'if [ "$1" = inspect ]; then exit 0; fi\n'
        'echo "Error response from daemon: configured logging driver does not support reading" >&2; exit 1\n'
    ))
    fact = LogSignatureCounts()
    command = fact.command(container="seedcore-ray-head", signatures=["Address already in use"])
    assert fact.process(_run(command, tmp_path)) == {"Address already in use": 0}


NAMES = ["seedcore-ray-head", "seedcore-ray-worker"]


def test_project_containers_command_inspects_each_container_and_its_image_once(tmp_path):
    """Found by label, by compose project and by name (one made by hand with
    `docker run --name seedcore-ray-head`, no label): each inspected once, in
    one `docker inspect` with their image, which is inspected once."""
    from seedcore.facts.docker import ProjectContainers

    calls = tmp_path / "calls"
    _fake_tool(tmp_path, "docker", f"""
echo "$*" >> {calls}
case "$1" in
  ps) printf '0a0b0c0d0e0f\\tseedcore-ray-head\\t\\t\\tray:2.20.0\\n'
      printf '3f1c9a7e5b2d\\tc-3f1c\\tseedcore-deploy\\tseedcore\\tray:2.20.0\\n'
      printf 'c0ffee11d00d\\tseedcore-ray-worker\\t\\tseedcore\\tray:2.20.0\\n'
      printf 'deadbeef0000\\tpostgres\\t\\tbilling\\tpostgres:16\\n' ;;
  inspect) shift; printf '['; sep=''
           for id in "$@"; do
             if [ "$id" = ray:2.20.0 ]; then
               printf '%s{{"Id": "sha256:1a2b", "Config": {{"Env": ["PATH=/opt/ray/bin"],
               "Labels": {{"org.opencontainers.image.title": "ray"}}, "Volumes": {{"/data": {{}}}}}}}}' "$sep"
             else
               labels='{{"com.docker.compose.project": "seedcore"}}'
               [ "$id" = 0a0b0c0d0e0f ] && labels=null
               printf '%s{{"Id": "%s", "Name": "/c-%s", "Image": "sha256:1a2b",
               "State": {{"Status": "running"}},
               "Config": {{"Image": "ray:2.20.0", "Labels": %s, "Env": ["PATH=/opt/ray/bin", "EXTRA=1"]}},
               "HostConfig": {{"NetworkMode": "host", "RestartPolicy": {{"Name": "unless-stopped"}},
                               "CapAdd": ["NET_ADMIN"]}},
               "Mounts": [{{"Type": "bind", "Source": "/opt/seedcore/serve", "Destination": "/serve"}}]}}' \\
                 "$sep" "$id" "$id" "$labels"
             fi; sep=','
           done; echo ']' ;;
esac
""")
    fact = ProjectContainers()
    containers = fact.process(_run(fact.command(project="seedcore", names=NAMES), tmp_path))

    assert [(c["id"], c["compose_project"], c["managed"]) for c in containers] == [
        ("0a0b0c0d0e0f", "", False),
        ("3f1c9a7e5b2d", "seedcore", False),
        ("c0ffee11d00d", "seedcore", False),
    ]
    inspect_calls = [line for line in calls.read_text().splitlines() if line.startswith("inspect")]
    assert inspect_calls == ["inspect 0a0b0c0d0e0f ray:2.20.0 3f1c9a7e5b2d c0ffee11d00d"]
    worker = containers[2]
    assert worker["image_env"] == ["PATH"] and worker["image_volumes"] == ["/data"]
    assert worker["image_labels"] == ["org.opencontainers.image.title"]
    assert (worker["mounts"], worker["cap_add"], worker["network_mode"], worker["restart_policy"]) == (
        ["/opt/seedcore/serve:/serve"], ["NET_ADMIN"], "host", "unless-stopped")


def test_project_containers_command_prints_nothing_without_docker(tmp_path):
    from seedcore.facts.docker import ProjectContainers

    _fake_tool(tmp_path, "docker", "echo 'Cannot connect to the Docker daemon' >&2; exit 1\n")
    fact = ProjectContainers()
    output = _run(fact.command(project="seedcore", names=NAMES), tmp_path)
    assert output == []
    assert fact.default() == []


def test_listening_ports_command_maps_pids_to_their_cgroup_container(tmp_path):
    import re

    from seedcore.facts.host import ListeningPorts

    pid = os.getpid()
    line = f'LISTEN 0      4096         0.0.0.0:8265       0.0.0.0:*    users:(("python",pid={pid},fd=14))'
    _fake_tool(tmp_path, "ss", f"echo '{line}'\n")
    with open(f"/proc/{pid}/cgroup") as handle:
        found = re.search(r"[0-9a-f]{64}", handle.read())
    fact = ListeningPorts()

    ports = fact.process(_run(fact.command(), tmp_path))

    assert ports == {8265: [{"process": "python", "pid": pid, "container": found.group(0) if found else ""}]}


def test_listening_ports_without_ss_still_sees_a_listener(tmp_path):
    # A minimal host without iproute2: the fact must not report "nothing listening".
    import shutil
    import socket

    from seedcore.facts.host import UNKNOWN_HOLDER, ListeningPorts

    (tmp_path / "cat").symlink_to(shutil.which("cat"))
    fact = ListeningPorts()
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        result = subprocess.run([shutil.which("bash"), "-c", command_text(fact.command())],
                                capture_output=True, text=True, env={"PATH": str(tmp_path)}, timeout=30)

    ports = fact.process(result.stdout.splitlines())

    assert ports[port] == [UNKNOWN_HOLDER]


@pytest.mark.parametrize(("uid", "sudo", "expected"), [
    ("0", None, "root"),
    ("1000", "exit 0", "passwordless"),
    ("1000", "echo 'sudo: a password is required' >&2; exit 1", "password"),
    ("1000", None, "no-sudo"),
])
def test_sudo_access_command_tells_how_the_user_becomes_root_without_a_prompt(tmp_path, uid, sudo, expected):
    from seedcore.facts.host import SudoAccess

    _fake_tool(tmp_path, "id", f"echo {uid}\n")
    if sudo is not None:
        _fake_tool(tmp_path, "sudo", sudo + "\n")
    fact = SudoAccess()
    env = {"PATH": f"{tmp_path}:/usr/bin/env-only"}  # no real sudo on PATH: the fakes or none
    result = subprocess.run(["/bin/bash", "-c", fact.command()], capture_output=True, text=True, env=env,
                            timeout=30)
    assert fact.process(result.stdout.splitlines()) == expected
    # sudo's own complaint never reaches pyinfra (it would prompt for a password on seeing it).
    assert "password is required" not in result.stdout + result.stderr
