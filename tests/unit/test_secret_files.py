"""The commands secret_files.root_only_file yields, run for real in a local
shell (the "SSH user" is the current user): the secret is never readable by
another user, at any step, and a second run changes nothing."""

import os
import stat
import subprocess

import pytest
from pyinfra.api.command import FileUploadCommand, StringCommand
from pyinfra.facts.files import File, Sha256File

from deploy.operations import secret_files
from tests.harness import FakeHost, command_text, run_operation

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
    private = tmp_path / "tmp" / "seedcore-0123abcd"
    private.parent.mkdir()
    monkeypatch.setattr(secret_files, "private_dir_name", lambda: str(private))
    project = tmp_path / "opt seedcore"
    project.mkdir()
    return tmp_path, private, project / "ray.env"


def _facts(dest, as_root=True):
    key = f"path={dest}"
    found = _fact(File, str(dest))
    if found and as_root:  # what root's file looks like: the test user cannot chown
        found = {**found, "user": "root", "group": "root"}
    return {"Sha256File": {key: _fact(Sha256File, str(dest))}, "File": {key: found}}


def _run_steps(commands, dest, private, tmp_path):
    """Run each command as the connector would; return the modes seen after each step."""
    seen = []
    old_umask = os.umask(0o022)  # an SSH user's usual default: files 0644
    try:
        for command in commands:
            if isinstance(command, FileUploadCommand):
                assert command.connector_arguments == {"_sudo": False}
                # SFTP creates the file with the SSH user's default mode.
                with open(command.dest, "w") as handle:
                    handle.write(command.src.getvalue())
            else:
                assert isinstance(command, (str, StringCommand))
                result = subprocess.run(["bash", "-c", command_text(command)], cwd=tmp_path,
                                        capture_output=True, text=True)
                assert result.returncode == 0, result.stderr
            seen.append({
                "dest": _mode(dest),
                "private_dir": _mode(private),
                "new": _mode(f"{dest}.seedcore-new"),
            })
    finally:
        os.umask(old_umask)
    return seen


@pytest.mark.parametrize("before", [None, 0o600, 0o644], ids=["absent", "root_only", "world_readable"])
def test_secret_is_root_only_at_every_step(scene, before):
    tmp_path, private, dest = scene
    if before is not None:
        dest.write_text("OLD=1\n")
        dest.chmod(before)
    host = FakeHost(facts=_facts(dest))
    commands = list(run_operation_commands(dest, host))

    assert [type(c).__name__ for c in commands] == ["StringCommand", "FileUploadCommand", "str"]
    assert commands[0].connector_arguments == {"_sudo": False}
    seen = _run_steps(commands, dest, private, tmp_path)

    # 1: the private dir exists, 0700; the destination is as it was.
    # 2: the upload (0644 by default) sits inside that 0700 dir.
    # 3: the destination is replaced, 0600; the private dir is gone.
    assert seen == [
        {"dest": before, "private_dir": 0o700, "new": None},
        {"dest": before, "private_dir": 0o700, "new": None},
        {"dest": 0o600, "private_dir": None, "new": None},
    ]
    assert dest.read_text() == SECRET
    # Between its copy and its chmod, the new file was already 0600.
    assert (tmp_path / "chown.log").read_text() == "root:root 600\n"
    assert not list(tmp_path.rglob("CANARY"))
    assert host.noops == []


def test_second_run_changes_nothing(scene):
    tmp_path, private, dest = scene
    _run_steps(list(run_operation_commands(dest, FakeHost(facts=_facts(dest)))), dest, private, tmp_path)

    host = FakeHost(facts=_facts(dest))
    assert run_operation(secret_files.root_only_file, host, text=SECRET, dest=str(dest)) == []
    assert host.noops == [f"{dest} is up to date (root only)"]


def test_changed_text_is_written_again(scene):
    tmp_path, private, dest = scene
    _run_steps(list(run_operation_commands(dest, FakeHost(facts=_facts(dest)))), dest, private, tmp_path)

    host = FakeHost(facts=_facts(dest))
    changed = run_operation(secret_files.root_only_file, host, text=SECRET + "B=2\n", dest=str(dest))
    assert changed[1] == f"upload {private}/ray.env: {SECRET}B=2\n"


def test_a_planted_private_dir_stops_the_write(scene):
    """An existing directory at the private path (planted by another user) is never reused."""
    tmp_path, private, dest = scene
    private.mkdir(mode=0o777)
    commands = list(run_operation_commands(dest, FakeHost(facts=_facts(dest))))
    result = subprocess.run(["bash", "-c", command_text(commands[0])], capture_output=True, text=True)
    assert result.returncode != 0


def run_operation_commands(dest, host):
    from pyinfra.context import ctx_host, ctx_state

    with ctx_state.use(host.state), ctx_host.use(host):
        yield from secret_files.root_only_file._inner(text=SECRET, dest=str(dest))
