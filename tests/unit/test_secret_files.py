"""The command secret_files.root_only_file yields, run for real in a local
shell with its stdin as the SSH connector sends it: the secret is never
readable by another user, at any moment, never on the command line, and a
second run changes nothing."""

import os
import stat
import subprocess

import pytest
from pyinfra.facts.files import File, Sha256File

from seedcore.operations import secret_files
from tests.harness import FakeHost, command_stdin, command_text, run_operation

SECRET = "SEEDCORE_API_TOKEN=tok'en; $(touch CANARY)\n"

# Stands in for chown (the test user cannot give files to root): it records
# the mode the new file has at that moment, between its copy and its chmod.
_CHOWN = """#!/bin/bash
printf '%s %s\\n' "$1" "$(stat -c %a "$2")" >> "$CHOWN_LOG"
"""


def _mode(path) -> int | None:
    return stat.S_IMODE(os.stat(path).st_mode) if os.path.exists(path) else None


def _fact(fact_cls, path):
    fact = fact_cls()
    command = command_text(fact.command(path=path))
    out = subprocess.run(["bash", "-c", command], capture_output=True, text=True, check=True).stdout
    lines = out.splitlines()
    return fact.process(lines) if lines else None


@pytest.fixture
def scene(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "chown").write_text(_CHOWN)
    (bin_dir / "chown").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setenv("CHOWN_LOG", str(tmp_path / "chown.log"))
    project = tmp_path / "opt seedcore"
    project.mkdir()
    return tmp_path, project / "ray.env"


def _facts(dest, as_root=True):
    key = f"path={dest}"
    found = _fact(File, str(dest))
    if found and as_root:  # what root's file looks like: the test user cannot chown
        found = {**found, "user": "root", "group": "root"}
    return {"Sha256File": {key: _fact(Sha256File, str(dest))}, "File": {key: found}}


def _run(command, tmp_path) -> subprocess.CompletedProcess:
    """Run a command as the SSH connector would: its text by bash, its stdin fed."""
    old_umask = os.umask(0o022)  # an SSH user's usual default: files 0644
    try:
        return subprocess.run(["bash", "-c", command_text(command)], cwd=tmp_path,
                              input=command_stdin(command), capture_output=True, text=True)
    finally:
        os.umask(old_umask)


@pytest.mark.parametrize("before", [None, 0o600, 0o644], ids=["absent", "root_only", "world_readable"])
def test_secret_is_root_only_at_every_step(scene, before):
    tmp_path, dest = scene
    if before is not None:
        dest.write_text("OLD=1\n")
        dest.chmod(before)
    host = FakeHost(facts=_facts(dest))
    commands = list(run_operation_commands(dest, host))

    # One command, the secret on its stdin only.
    assert [type(c).__name__ for c in commands] == ["StringCommand"]
    assert "SEEDCORE_API_TOKEN" not in command_text(commands[0])
    result = _run(commands[0], tmp_path)
    assert result.returncode == 0, result.stderr

    assert dest.read_text() == SECRET
    assert _mode(dest) == 0o600
    assert not os.path.exists(f"{dest}.seedcore-new")
    # Between its write and its chmod, the new file was already 0600.
    assert (tmp_path / "chown.log").read_text() == "root:root 600\n"
    assert not list(tmp_path.rglob("CANARY"))
    assert host.noops == []


def test_second_run_changes_nothing(scene):
    tmp_path, dest = scene
    for command in run_operation_commands(dest, FakeHost(facts=_facts(dest))):
        assert _run(command, tmp_path).returncode == 0

    host = FakeHost(facts=_facts(dest))
    assert run_operation(secret_files.root_only_file, host, text=SECRET, dest=str(dest)) == []
    assert host.noops == [f"{dest} is up to date (root only)"]


def test_changed_text_is_written_again(scene):
    tmp_path, dest = scene
    for command in run_operation_commands(dest, FakeHost(facts=_facts(dest))):
        assert _run(command, tmp_path).returncode == 0

    host = FakeHost(facts=_facts(dest))
    changed = run_operation(secret_files.root_only_file, host, text=SECRET + "B=2\n", dest=str(dest))
    assert len(changed) == 1 and changed[0].endswith(f" <<< {SECRET}B=2\n")


def test_a_failed_write_leaves_the_old_file_and_no_half_made_one(scene, monkeypatch):
    """When a step fails (here chown), the destination keeps its old text and mode,
    the new file beside it is removed, and the command fails."""
    tmp_path, dest = scene
    dest.write_text("OLD=1\n")
    dest.chmod(0o600)
    (tmp_path / "bin" / "chown").write_text("#!/bin/bash\nexit 1\n")
    commands = list(run_operation_commands(dest, FakeHost(facts=_facts(dest))))
    assert _run(commands[0], tmp_path).returncode != 0
    assert dest.read_text() == "OLD=1\n" and _mode(dest) == 0o600
    assert not os.path.exists(f"{dest}.seedcore-new")


def run_operation_commands(dest, host):
    from pyinfra.context import ctx_host, ctx_state

    with ctx_state.use(host.state), ctx_host.use(host):
        yield from secret_files.root_only_file._inner(text=SECRET, dest=str(dest))
