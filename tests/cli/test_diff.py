"""`--dry --diff` shows the compose and env files, root-only as they are, with every
secret masked: a host whose ray_secret_env value changed since its last run."""

import dataclasses
import re
import subprocess

import pytest

from seedcore import render
from seedcore.masking import masked_read, node_masks
from tests.cli import responses
from tests.cli.cli import head_and_two_workers
from tests.cli.inprocess import plans
from tests.cli.test_converged import WORKER_1, converge
from tests.cli.test_secret_output import base64_forms

OLD, NEW = "seedcore-old-token-7f3a9c2e1b", "seedcore-new-token-5d8e0a4c6f"
DATA = {"firewall_manage": False, "web_manage": False, "tls_enabled": False,
        "ray_secret_env": {"SEEDCORE_API_TOKEN": "SEEDCORE_TEST_API_TOKEN"}}


def masked_on_host(tmp_path, path: str, text: str, keys) -> list[str]:
    """What the host prints for MaskedFileText of a file holding `text`: its own command, run here."""
    local = tmp_path / "on-host"
    local.write_text(text)
    done = subprocess.run(["sh", "-c", masked_read(str(local), keys)], capture_output=True, text=True,
                          check=True, timeout=30)
    return done.stdout.splitlines()


def holding_old_secret(deployment, tmp_path, name: str) -> None:
    """`name`'s compose file on the host holds OLD, as written by the last run."""
    plan = plans(deployment.path)[name]
    old_node = dataclasses.replace(plan.node, secret_env={"SEEDCORE_API_TOKEN": OLD})
    compose = next(file for file in render.project_files(old_node, plan.config_hash) if file.key == "compose")
    keys = sorted(node_masks(plan.node).keys)
    answers = {**responses.file_on_host(compose.path, compose.text, "-rw-------"),
               f"p={compose.path};": masked_on_host(tmp_path, compose.path, compose.text, keys)}
    base = deployment.data[name]["fake_responses"]
    answers.update((matcher, answer) for matcher, answer in base.items() if matcher not in answers)
    deployment.data[name]["fake_responses"] = answers


@pytest.fixture
def changed_secret(tmp_path, monkeypatch):
    monkeypatch.setenv("SEEDCORE_TEST_API_TOKEN", NEW)
    deployment = head_and_two_workers(tmp_path, **DATA)
    converge(deployment, files=True)
    holding_old_secret(deployment, tmp_path, WORKER_1)
    return deployment


# -vvv prints every fact's output, `docker inspect` of the running container too, whose
# environment holds the value it runs with (NEW here): only OLD, which nothing but the
# file on the host holds, is looked for there.
@pytest.mark.parametrize(("flags", "never"), [(["--diff"], (OLD, NEW)), (["--diff", "-vvv"], (OLD,))],
                         ids=["diff", "diff -vvv"])
def test_the_diff_shows_the_secret_changed_never_its_values(changed_secret, flags, never):
    run = changed_secret.run("--dry", *flags)
    assert run.code == 0, run.describe()
    assert "[@fake/worker-1] Will modify /opt/seedcore/" in run.output, run.describe()
    assert "(secrets masked)" in run.output
    for side, which in (("-", "old"), ("+", "new")):
        marked = (rf"^\s*{re.escape(side)}\s+SEEDCORE_API_TOKEN: "
                  rf"<secret: ray_secret_env.SEEDCORE_API_TOKEN, {which} value>$")
        assert re.search(marked, run.output, re.MULTILINE), run.describe()
    assert run.changed("Write the node's compose file") == {WORKER_1}
    for value in never:
        assert value not in run.output, f"a secret was printed with {flags}"
        for encoded in base64_forms(value):
            assert encoded not in run.output


def test_without_diff_nothing_of_the_file_is_shown(changed_secret):
    run = changed_secret.dry()
    assert run.code == 0, run.describe()
    assert "SEEDCORE_API_TOKEN" not in run.output
    assert run.changed("Write the node's compose file") == {WORKER_1}
