"""Every value that reaches a shell arrives as one argument, unchanged.

Each fact command and each command builder is rendered with hostile values
(space, quotes, `;`, `$()`, backticks, a newline) and run with bash, with a
PATH whose first directory holds fake `docker`, `docker-compose`, `df`,
`cat`, `ray`, `python`, `chown`... that append their exact argv to a log
(one record per call: the argument count, the tool's name, each argument,
every field NUL-terminated).
The argv recorded must be exactly the intended one, and no canary file
(`$(touch CANARY)`, `;touch CANARY`, backticks) may ever be created.
"""

import importlib
import inspect
import os
import shlex
import stat
import subprocess
from pathlib import Path

import pytest

from seedcore import commands
from seedcore.facts import docker as docker_facts
from seedcore.facts import gpu as gpu_facts
from seedcore.facts import host as host_facts
from seedcore.operations.secret_files import stdin_of
from seedcore.render import MANAGED_VALUE
from tests.harness import CONTAINERS_KEY, command_text, make_node
from tests.shell import call_of

HOSTILE = {
    "space": "seed core",
    "single_quote": "it's",
    "double_quote": 'say "hi"',
    "semicolon": "x;touch CANARY_SEMI",
    "subshell": "$(touch CANARY_SUB)",
    "backticks": "`touch CANARY_TICK`",
    "newline": "one\ntouch CANARY_NL",
    "and": "a && touch CANARY_AND",
    "glob_dollar": "* $HOME ${PATH}",
}

# Tools whose every call is recorded. `docker exec C sh -c ...` also runs the
# inner script, so what drain_worker runs inside the container is checked too.
RECORDED = ["docker", "docker-compose", "df", "cat", "ray", "python", "nvidia-smi", "chown"]

_RECORDER = r"""#!/bin/bash
printf '%s\0' "$#" "$(basename "$0")" "$@" >> "$ARGV_LOG"
case "$(basename "$0") $1" in
  "docker exec") if [ "$3" = sh ] && [ "$4" = -c ]; then sh -c "$5"; fi ;;
  "docker inspect") echo healthy ;;
  "df "*) printf 'Filesystem 1024-blocks Used Available Capacity Mounted\nfs 100 1 2048 1%% /\n' ;;
  "python "*) echo node-abc ;;
esac
exit 0
"""


def _records(text: str) -> list[list[str]]:
    fields, records, at = text.split("\0")[:-1], [], 0
    while at < len(fields):
        count = int(fields[at])
        records.append(fields[at + 1:at + 2 + count])
        at += 2 + count
    return records


@pytest.fixture
def shell(tmp_path):
    """Run a command with bash in a scratch directory, tools faked; return the argv records."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in RECORDED:
        path = bin_dir / tool
        path.write_text(_RECORDER)
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    work = tmp_path / "work"
    work.mkdir()
    log = tmp_path / "argv.log"

    def run(command, stdin: str | None = None) -> tuple[list[list[str]], subprocess.CompletedProcess]:
        log.write_bytes(b"")
        env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "ARGV_LOG": str(log)}
        result = subprocess.run(["bash", "-c", command_text(command)], cwd=work, env=env, input=stdin,
                                capture_output=True, text=True, timeout=30)
        records = _records(log.read_text())
        canaries = sorted(p.name for p in work.rglob("CANARY*"))
        assert canaries == [], f"the command ran more than it should: {canaries}\n{command_text(command)}"
        return records, result

    run.work = work
    return run


VALUES = pytest.mark.parametrize("value", list(HOSTILE.values()), ids=list(HOSTILE))


# --------------------------------------------------------------------------- facts

@VALUES
def test_file_text(shell, value):
    path = str(shell.work / value)
    records, _ = shell(host_facts.FileText().command(path=path))
    assert records == [["cat", path]]


@VALUES
def test_disk_available(shell, value):
    path = shell.work / value
    path.mkdir()
    records, result = shell(host_facts.DiskAvailableMb().command(path=str(path)))
    assert records == [["df", "-Pk", "--", str(path)]]
    assert host_facts.DiskAvailableMb().process(result.stdout.splitlines()) == 2


@VALUES
def test_disk_available_walks_up_from_a_missing_path(shell, value):
    records, _ = shell(host_facts.DiskAvailableMb().command(path=f"{shell.work}/{value}/deeper"))
    assert records == [["df", "-Pk", "--", str(shell.work)]]


@VALUES
def test_image_id(shell, value):
    records, _ = shell(docker_facts.ImageId().command(image=value))
    assert records == [["docker", "image", "inspect", "-f", "{{.Id}}", value]]


PS_LISTING = ("{{.ID}}\t{{.Names}}\t{{.Label \"io.seedcore.managed-by\"}}"
              "\t{{.Label \"com.docker.compose.project\"}}\t{{.Image}}")


def _docker_listing(shell, rows: list[tuple[str, ...]]) -> None:
    """A fake docker whose `ps` lists these (id, names, managed-by, project, image) rows."""
    listing = shell.work.parent / "ps.txt"
    listing.write_text("".join("\t".join(row) + "\n" for row in rows))
    shell.work.joinpath("..", "bin", "docker").write_text(
        '#!/bin/bash\nprintf \'%s\\0\' "$#" docker "$@" >> "$ARGV_LOG"\n'
        f'[ "$1" = ps ] && /bin/cat {shlex.quote(str(listing))}\nexit 0\n'
    )


@VALUES
def test_project_containers(shell, value):
    """One `docker ps`; the project and names reach awk as data, whatever they hold."""
    _docker_listing(shell, [("id-managed", "x", MANAGED_VALUE, "", "ray:2.20.0"),
                            ("id-other", "y", "", "other", "ray:2.20.0")])
    command = docker_facts.ProjectContainers().command(project=value, names=[value, "seedcore-ray.worker"])
    records, result = shell(command)
    assert result.returncode == 0, result.stderr
    assert records == [
        ["docker", "ps", "-a", "--no-trunc", "--format", PS_LISTING.replace('\\"', '"')],
        ["docker", "inspect", "id-managed", "ray:2.20.0"],
    ]


def test_project_containers_match_names_and_labels_exactly(shell):
    _docker_listing(shell, [
        ("id-managed", "anything", MANAGED_VALUE, "", "ray:a"),
        ("id-project", "anything-else", "", "seedcore", "ray:a"),
        ("id-named", "seedcore-ray-head", "", "", "ray:b"),
        ("id-dotted", "seedcore-ray.worker", "", "", "ray:a"),
        ("id-regex-lookalike", "seedcore-rayXworker", "", "", "ray:c"),
        ("id-longer", "seedcore-ray-head-2", "", "seedcore-2", "ray:c"),
        ("id-foreign", "db", "someone-else", "other", "ray:c"),
    ])
    command = docker_facts.ProjectContainers().command(
        project="seedcore", names=["seedcore-ray-head", "seedcore-ray.worker"])
    records, _ = shell(command)
    assert records[1:] == [["docker", "inspect", "id-managed", "ray:a", "id-project", "id-named", "ray:b",
                            "id-dotted"]]


@VALUES
def test_log_signature_counts(shell, value):
    signature = value.replace("\n", " ")  # a signature is one line
    fact = docker_facts.LogSignatureCounts()
    records, result = shell(fact.command(container=value, signatures=[signature, "x"]))
    assert records == [["docker", "logs", value]]
    assert fact.process(result.stdout.splitlines()) == {signature: 0, "x": 0}


@VALUES
def test_container_gpus(shell, value):
    records, _ = shell(gpu_facts.ContainerGpus().command(container=value))
    assert records == [["docker", "exec", value, "nvidia-smi", "-L"]]


@VALUES
def test_masked_file_text(shell, value):
    """A hostile path or variable name reaches no command as anything but itself:
    the file is read (missing here), and nothing else runs."""
    path = str(shell.work / value)
    records, result = shell(host_facts.MaskedFileText().command(path=path, keys=[value]))
    assert records == []
    assert host_facts.MaskedFileText().process(result.stdout.splitlines()) is None


COVERED_FACTS = {"FileText", "DiskAvailableMb", "ImageId", "ProjectContainers", "LogSignatureCounts",
                 "ContainerGpus", "MaskedFileText"}


def test_every_fact_with_arguments_is_covered():
    for module in (docker_facts, gpu_facts, host_facts):
        for name, value in vars(module).items():
            if isinstance(value, type) and value.__module__ == module.__name__ and hasattr(value, "process"):
                takes_values = len(inspect.signature(value.command).parameters) > 1
                assert not takes_values or name in COVERED_FACTS, f"{name} takes values: cover it here"


# --------------------------------------------------------------------------- builders

@VALUES
def test_compose(shell, value):
    project_dir = shell.work / value
    project_dir.mkdir()
    node = make_node(settings={"ray_project_dir": str(project_dir), "ray_compose_project": value})
    records, _ = shell(commands.compose_up(commands.COMPOSE_V1, node))
    assert [call_of(record) for record in records] == [call_of(
        ["docker-compose", "-f", "docker-compose.yml", "-p", value, "--profile", "ray", "up", "-d",
         "--remove-orphans"])]
    records, _ = shell(commands.compose_down(commands.COMPOSE_V2, node))
    assert [call_of(record) for record in records] == [call_of(
        ["docker", "compose", "-f", "docker-compose.yml", "-p", value, "--profile", "ray", "down",
         "--remove-orphans"])]


@VALUES
def test_remove_labelled_containers(shell, value):
    records, _ = shell(commands.remove_labelled_containers(value, value))
    assert records == [["docker", "ps", "-aq", "--filter", f"label={value}={value}"]]


@VALUES
def test_remove_containers(shell, value):
    records, _ = shell(commands.remove_containers([value, "c0ffee11d00d"]))
    assert records == [["docker", "rm", "-f", value, "c0ffee11d00d"]]


@VALUES
def test_pull(shell, value):
    records, _ = shell(commands.pull(value))
    assert records == [["docker", "pull", value]]


@VALUES
def test_wait_healthy(shell, value):
    records, result = shell(commands.wait_healthy(value, 30))
    assert result.returncode == 0
    assert records == [["docker", "inspect", "-f", commands.HEALTH_FORMAT, value]]


@VALUES
def test_wait_healthy_names_the_container_at_the_deadline(shell, value, tmp_path):
    # The fake reports "starting" here, and the deadline is now.
    shell.work.joinpath("..", "bin", "docker").write_text(
        '#!/bin/bash\nprintf \'%s\\0\' "$#" docker "$@" >> "$ARGV_LOG"\n'
        '[ "$1" = inspect ] && echo starting\nexit 0\n'
    )
    records, result = shell(commands.wait_healthy(value, 0))
    assert result.returncode == 1
    assert result.stderr == f"{value} not healthy after 0s (last status: starting)\n"
    assert records == [["docker", "inspect", "-f", commands.HEALTH_FORMAT, value],
                       ["docker", "logs", "--tail", "30", value],
                       ["docker", "logs", "--tail", str(commands.FATAL_LOG_LINES), value]]


@VALUES
def test_serve_deploy(shell, value):
    marker_path = shell.work / value
    records, result = shell(commands.serve_deploy(value, value, str(marker_path), value))
    assert result.returncode == 0
    assert records == [["docker", "exec", value, "serve", "deploy", value]]
    assert marker_path.read_text() == value + "\n"


@VALUES
def test_serve_deploy_stored(shell, value):
    records, result = shell(commands.serve_deploy_stored(value, value, value, value))
    assert result.returncode == 0
    assert records[0] == ["docker", "exec", value, "serve", "deploy", value]
    assert records[1][:4] == ["docker", "exec", value, "python"]
    assert records[1][-2:] == [value, value]


@VALUES
def test_refuse(shell, value):
    records, result = shell(commands.refuse(value))
    assert (records, result.returncode, result.stderr) == ([], 1, value + "\n")


@VALUES
def test_archive_containers(shell, value):
    archive = shell.work / f"archive {value}"
    records, result = shell(commands.archive_containers([value], str(archive)))
    assert result.returncode == 0, result.stderr
    assert records == [
        ["docker", "logs", "--timestamps", value],
        ["docker", "inspect", value],
        ["docker", "cp", "-L", f"{value}:/tmp/ray/session_latest/logs", f"{archive}/{value}-ray-logs"],
    ]
    assert sorted(p.name for p in archive.iterdir()) == [f"{value}.inspect.json", f"{value}.log"]
    assert result.stdout == f"archived 1 container(s) to {archive}\n"


@VALUES
def test_drain_worker(shell, value):
    records, _ = shell(commands.drain_worker(value, value, 30))
    find_node = ("import ray; ray.init(address='auto', logging_level='ERROR'); "
                 "print(ray.get_runtime_context().get_node_id())")
    assert records[:2] == [["docker", "exec", value, "sh", "-c", records[0][5]], ["python", "-c", find_node]]
    assert records[2:] == [[
        "ray", "drain-node", "--address", value, "--node-id", "node-abc",
        "--reason", "DRAIN_NODE_REASON_PREEMPTION", "--reason-message", "seedcore rollout",
        "--deadline-remaining-seconds", "30",
    ]]


@VALUES
def test_drain_worker_refused_names_the_container(shell, value):
    shell.work.joinpath("..", "bin", "docker").write_text("#!/bin/bash\nexit 1\n")
    _, result = shell(commands.drain_worker(value, "10.0.0.10:6379", 30))
    assert result.stdout == f"Ray did not accept draining {value}; restarting it anyway\n"


@VALUES
def test_serve_route_check(shell, value):
    records, _ = shell(commands.serve_route_check(value, value, 8000, value, 90))
    assert records == [["docker", "exec", value, "python", value, "--port", "8000", "--route", value,
                        "--timeout", "90"]]


@VALUES
def test_registry_login(shell, value):
    record = shell.work / f"logins {value}" / "digest"
    records, result = shell(commands.registry_login(value, value, str(record)),
                            stdin=stdin_of(f"d1g357\n{value}"))
    assert result.returncode == 0, result.stderr
    assert records == [["docker", "login", "--username", value, "--password-stdin", value]]
    assert record.read_text() == "d1g357\n" and stat.S_IMODE(record.stat().st_mode) == 0o600


@VALUES
def test_root_only_file_from_stdin(shell, value):
    dest = shell.work / f"dest {value}"
    records, result = shell(commands.root_only_from_stdin(str(dest)), stdin=stdin_of(value + "\n"))
    assert result.returncode == 0, result.stderr
    assert records == [["chown", "root:root", f"{dest}.seedcore-new"]]
    assert dest.read_text() == value + "\n" and stat.S_IMODE(dest.stat().st_mode) == 0o600
    assert not Path(f"{dest}.seedcore-new").exists()


@VALUES
def test_bounded(shell, value):
    records, result = shell(commands.bounded(f"docker inspect {shlex.quote(value)}", 30, value))
    assert (records, result.returncode) == ([["docker", "inspect", value]], 0)
    _, stopped = shell(commands.bounded("sleep 5", 1, value))
    assert stopped.returncode == 124
    assert stopped.stderr == f"{value}: no answer within 1 s, stopped\n"


@VALUES
def test_prune_archives(shell, value):
    root = shell.work / f"archive {value}"
    for stamp in ("20261101T000000Z", "20261102T000000Z", "20261103T000000Z"):
        (root / stamp).mkdir(parents=True)
    _, result = shell(commands.prune_archives(str(root), 2, 1000))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in root.iterdir()) == ["20261102T000000Z", "20261103T000000Z"]
    assert result.stdout == f"removed {root}/20261101T000000Z (beyond the archives kept)\n"


BUILDERS_COVERED = {
    "bounded", "compose", "compose_up", "compose_down", "remove_labelled_containers", "remove_containers",
    "pull", "prune_archives", "wait_healthy", "serve_deploy", "serve_deploy_stored", "refuse",
    "archive_containers", "drain_worker", "serve_route_check",
    "registry_login", "root_only_from_stdin", "file_from_stdin",
    # Integers only, an argument list for YAML (never a shell), a version test, no value at all:
    "ports_free", "ray_start_args", "_ray_start", "restart_docker",
}


@VALUES
def test_file_from_stdin_with_a_hostile_owner_and_path(shell, value):
    dest = shell.work / f"dir {value}" / f"dest {value}"
    records, result = shell(commands.file_from_stdin(str(dest), value, "root", "0644"), stdin=stdin_of("x\n"))
    assert result.returncode == 0, result.stderr
    assert records == [["chown", f"{value}:root", f"{dest}.seedcore-new"]]
    assert dest.read_text() == "x\n" and stat.S_IMODE(dest.stat().st_mode) == 0o644
    assert not Path(f"{dest}.seedcore-new").exists()


def test_every_builder_is_covered():
    module = importlib.import_module("seedcore.commands")
    builders = {name for name, value in vars(module).items()
                if inspect.isfunction(value) and value.__module__ == module.__name__}
    assert builders == BUILDERS_COVERED


def test_recorder_keeps_an_argument_with_a_newline(shell):
    records, _ = shell("docker 'a\nb' '' c")
    assert records == [["docker", "a\nb", "", "c"]]


def test_canary_check_catches_an_unquoted_value(shell):
    with pytest.raises(AssertionError, match="CANARY_SUB"):
        shell(f"docker pull {HOSTILE['subshell']}")
    assert Path(shell.work / "CANARY_SUB").exists()


def test_serve_marker_under_a_project_dir_with_a_space_is_read_back(tmp_path):
    """The issue's symptom: with `ray_project_dir` holding a space, the marker
    read failed and Serve was redeployed on every run. The real FileText
    command (real `cat`) reads it back, and the second run is a no-op."""
    from seedcore.operations import ray
    from seedcore.tasks.serve import MARKER
    from tests.harness import FakeHost, run_operation

    project_dir = tmp_path / "seed core"
    project_dir.mkdir()
    marker_path = f"{project_dir}/{MARKER}"
    (project_dir / MARKER).write_text("digest1 3f1c9a7e5b2d\n")
    fact = host_facts.FileText()
    out = subprocess.run(["bash", "-c", command_text(fact.command(path=marker_path))],
                         capture_output=True, text=True, check=True).stdout
    node = make_node(settings={"ray_project_dir": str(project_dir)})
    container = {"id": "3f1c9a7e5b2d" + "0" * 52, "name": node.container, "status": "running",
                 "health": "healthy", "config_hash": "h"}
    host = FakeHost(facts={
        "ProjectContainers": {CONTAINERS_KEY: [container]},
        "FileText": {f"path={marker_path}": fact.process(out.splitlines())},
    })
    assert run_operation(ray.serve_deployed, host, node=node, config_path="/srv/serve.yaml",
                         config_digest="digest1", marker_path=marker_path) == []
    assert host.noops == ["the Serve config is deployed"]
