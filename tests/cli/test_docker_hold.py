"""Pinned Docker packages are held: `--dry` on hosts whose pinned packages are held
at docker_version lists no package or hold step; a changed pin lists the release
of the hold, the install and the hold again, in that order; a host without a pin
holds nothing."""

from tests.cli import responses
from tests.cli.cli import head_and_two_workers
from tests.cli.inprocess import prepare
from tests.cli.test_converged import converge
from tests.shell import calls

HEAD = "@fake/head-1"
ALL = {HEAD, "@fake/worker-1", "@fake/worker-2"}
PIN = "5:27.3.1-1~debian.12~bookworm"
NEW_PIN = "5:27.4.0-1~debian.12~bookworm"
PINNED = frozenset({"docker-ce", "docker-ce-cli"})

RELEASE = "Release the hold on Docker's pinned packages because docker_version changed"
INSTALL = "Install Docker's packages from docker_install_source"
HOLD = "Hold Docker's pinned packages at docker_version, so no apt upgrade moves them"


def apt_marks(shell: list[str]) -> list[tuple[str, frozenset]]:
    """(hold|unhold, packages) of each apt-mark the run would send, in order."""
    return [(call[1], frozenset(call[2:])) for call in calls(shell) if call[:1] == ("apt-mark",)]


def test_held_pinned_packages_list_no_package_or_hold_step(tmp_path):
    deployment = head_and_two_workers(tmp_path, docker_version=PIN)
    converge(deployment)

    run = deployment.dry()

    assert run.code == 0, run.describe()
    for step in (RELEASE, INSTALL, HOLD):
        assert run.changes_anywhere(step) == frozenset(), f"{step}:\n{run.describe()}"
    assert apt_marks(prepare(deployment.path).shell(HEAD)) == []


def test_a_changed_pin_releases_the_hold_installs_the_new_pin_and_holds_again(tmp_path):
    deployment = head_and_two_workers(tmp_path, docker_version=PIN)
    converge(deployment)
    for data in deployment.data.values():
        data["docker_version"] = NEW_PIN

    run = deployment.dry()

    assert run.code == 0, run.describe()
    assert [run.changed(step) for step in (RELEASE, INSTALL, HOLD)] == [ALL] * 3, run.describe()
    names = run.operations()
    order = [next(i for i, name in enumerate(names) if step in name) for step in (RELEASE, INSTALL, HOLD)]
    assert order == sorted(order), names
    assert apt_marks(prepare(deployment.path).shell(HEAD)) == [("unhold", PINNED), ("hold", PINNED)]


def test_a_first_install_holds_the_pinned_packages_it_installs(tmp_path):
    deployment = head_and_two_workers(tmp_path, docker_version=PIN)

    run = deployment.dry()

    assert run.code == 0, run.describe()
    assert run.changes_anywhere(RELEASE) == frozenset()
    assert run.changed(INSTALL) == ALL and run.changed(HOLD) == ALL
    assert apt_marks(prepare(deployment.path).shell(HEAD)) == [("hold", PINNED)]


def test_a_pin_moved_by_hand_after_its_hold_was_released_is_put_back_and_held(tmp_path):
    """An operator released the hold and upgraded: the pin is installed again and held."""
    deployment = head_and_two_workers(tmp_path, docker_version=PIN)
    converge(deployment)
    head = deployment.data[HEAD]["fake_responses"]
    head[responses.HELD_PACKAGES] = []
    head[responses.DEB_PACKAGES] = responses.dpkg_list([f"docker-ce={NEW_PIN}", f"docker-ce-cli={NEW_PIN}",
                                                        "containerd.io", "docker-compose-plugin"])

    run = deployment.dry()

    assert run.code == 0, run.describe()
    assert run.changes_anywhere(RELEASE) == frozenset()
    assert run.changed(INSTALL) == {HEAD} and run.changed(HOLD) == {HEAD}, run.describe()
    assert apt_marks(prepare(deployment.path).shell(HEAD)) == [("hold", PINNED)]


def test_without_a_pin_nothing_is_held(tmp_path):
    deployment = head_and_two_workers(tmp_path)

    run = deployment.dry()

    assert run.code == 0, run.describe()
    assert run.changes_anywhere(HOLD) == frozenset() and run.changes_anywhere(RELEASE) == frozenset()
    assert apt_marks(prepare(deployment.path).shell(HEAD)) == []
