"""`LAB=0 make test` is the quick tier: ruff and pytest from the venv, with no
engine step (no root, no packages installed, no dockerd); `make test` keeps it."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="no make on this machine")


def planned(*args: str, lab: str | None = None) -> list[str]:
    """The recipe lines `make -n test` would run (nothing is run)."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("LAB", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    if lab is not None:
        env["LAB"] = lab
    done = subprocess.run(["make", "--no-print-directory", "-n", "test", *args], cwd=ROOT, env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=True)
    return done.stdout.splitlines()


@pytest.mark.parametrize("how", ["environment", "make variable"])
def test_quick_tier_needs_no_engine(how):
    lines = planned(lab="0") if how == "environment" else planned("LAB=0")
    assert "scripts/ensure-docker.sh" not in lines
    assert ".venv/bin/ruff check ." in lines
    assert lines[-1].split() == ["LAB=0", ".venv/bin/python", "-m", "pytest"]
    assert lines.index(".venv/bin/ruff check .") < len(lines) - 1


def test_full_tier_still_starts_the_engine_before_pytest():
    lines = [line.strip() for line in planned()]
    assert "scripts/ensure-docker.sh" in lines
    assert lines.index("scripts/ensure-docker.sh") < lines.index(".venv/bin/python -m pytest")


def test_full_tier_installs_promtool_before_pytest():
    lines = [line.strip() for line in planned()]
    assert lines.index("scripts/ensure-promtool.sh") < lines.index(".venv/bin/python -m pytest")
    assert "scripts/ensure-promtool.sh" not in planned(lab="0")


def test_ci_runs_make_test():
    assert "make test" in (ROOT / ".ci" / "run").read_text().splitlines()
