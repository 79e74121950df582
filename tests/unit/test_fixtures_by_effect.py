"""The operation fixtures check what a command does, not how it is written: a
harmless rewording of `docker compose` passes them, a dropped flag fails them."""

import shlex

import pytest

from seedcore import commands
from tests.shell import effect, same_effect, stated
from tests.unit.test_operations import CASES, check_case

COMPOSE_CASES = [
    (op_name, case, fixture) for op_name, case, fixture in CASES
    if any("compose" in str(item) for item in fixture.get("commands", []))
]


def _compose_reworded(cli, project_dir, compose_file, project, *action, profile=None):
    """The same call with its options in another order and every word quoted."""
    verb, *options = action
    parts = [*cli.split(), "--project-name", project]
    if profile:
        parts += ["--profile", profile]
    parts += ["--file", compose_file, verb, *reversed(options)]
    return f"cd {shlex.quote(project_dir)} && " + " ".join(f"'{part}'" for part in parts)


def _compose_without_remove_orphans(cli, project_dir, compose_file, project, *action, profile=None):
    kept = [word for word in action if word != "--remove-orphans"]
    return _ORIGINAL_COMPOSE(cli, project_dir, compose_file, project, *kept, profile=profile)


_ORIGINAL_COMPOSE = commands.compose


def test_there_are_compose_fixtures_to_prove_it_on():
    assert len(COMPOSE_CASES) >= 8


def test_a_reworded_compose_call_passes_every_fixture(monkeypatch):
    before = {(op, case): check_case(op, case, fixture) for op, case, fixture in COMPOSE_CASES}
    monkeypatch.setattr(commands, "compose", _compose_reworded)

    after = {(op, case): check_case(op, case, fixture) for op, case, fixture in COMPOSE_CASES}

    # The text did change (-p before -f, long option names, quoting, the verb's options reversed).
    assert all(after[key] != before[key] for key in before if any("compose" in c for c in before[key]))


def test_a_compose_call_without_a_needed_flag_fails_every_fixture_that_runs_one(monkeypatch):
    monkeypatch.setattr(commands, "compose", _compose_without_remove_orphans)
    for op_name, case, fixture in COMPOSE_CASES:
        with pytest.raises(AssertionError, match="do not do what the fixture states"):
            check_case(op_name, case, fixture)


@pytest.mark.parametrize(("one", "other"), [
    ("docker compose -f a.yml -p p up -d x y", "docker compose -p p --file a.yml up y x -d"),
    ("apt-get -y install b a", "apt-get install -y a b"),
    ("docker rm -f c1 c2", "docker rm -f c2 c1"),
    ("sh -c 'mkdir -p /a && chmod 0700 /a'", "mkdir -p /a && chmod 0700 /a"),
    ("docker pull 'img:1'", "docker pull img:1"),
    ("X=1 Y=2 cmd 2>/dev/null", "Y=2 X=1 cmd 2>/dev/null"),
    ("for p in 1 2; do   echo $p; done", "for p in 1 2; do echo $p; done"),
])
def test_commands_that_do_the_same_compare_equal(one, other):
    assert same_effect(one, other)


@pytest.mark.parametrize(("one", "other"), [
    ("docker compose -f a.yml -p p up -d", "docker compose -f a.yml -p p up"),
    ("docker compose -f a.yml -p p up -d", "docker compose -f b.yml -p p up -d"),
    ("docker compose -f a.yml -p p up -d", "docker compose -f a.yml -p p down"),
    ("cd /x && docker pull i", "cd /x; docker pull i"),
    ("cd /x && docker pull i", "cd /x || docker pull i"),
    ("chmod 0700 /a", "chmod 0755 /a"),
    ("cp a b", "cp b a"),
    ("cmd 2>/dev/null", "cmd"),
    ("X=1 cmd", "cmd"),
    ("for p in 1 2; do echo $p; done", "for p in 1 3; do echo $p; done"),
])
def test_commands_that_differ_in_effect_compare_unequal(one, other):
    assert effect(one) != effect(other)


def test_a_fixture_may_state_argv_lists_or_a_command_line():
    as_argv = stated([["cd", "/opt/seed core"], ["docker", "pull", "i"]])
    assert as_argv == stated("cd '/opt/seed core' && docker pull i")
    assert stated("base64 -d > /f <<< text") != stated("base64 -d > /f <<< other")


def test_calls_see_what_a_bounded_retry_loop_runs():
    from seedcore import commands
    from tests.shell import calls

    pull = commands.pull("ray:2.20.0 ; x", timeout_s=60, tries=2)
    assert calls([pull]) == [("docker", "pull", "ray:2.20.0 ; x")]
    assert calls(["for x in a; do echo $x; done"]) == []
