"""The suite's check for daemons left behind, against a real one."""

import shutil
import subprocess

import pytest

from tests import daemons


def test_a_daemon_started_and_left_is_named_and_one_stopped_is_not(tmp_path):
    sleeper = shutil.which("sleep")
    before = daemons.running(frozenset({"sleep"}))
    child = subprocess.Popen([sleeper, "30"])
    try:
        during = daemons.running(frozenset({"sleep"}))
        assert f"sleep (pid {child.pid})" in daemons.left_behind(before, during)
    finally:
        child.kill()
        child.wait()
    after = daemons.running(frozenset({"sleep"}))
    assert f"sleep (pid {child.pid})" not in daemons.left_behind(before, after)


@pytest.mark.skipif(shutil.which("gpgconf") is None, reason="no gpg here")
def test_a_throwaway_keyring_leaves_no_agent_once_killed(tmp_path):
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    before = daemons.running()
    subprocess.run(["gpg", "--homedir", str(home), "--batch", "--list-secret-keys"], capture_output=True,
                   timeout=30)
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], capture_output=True, timeout=30)
    assert daemons.left_behind(before, daemons.running()) == []
