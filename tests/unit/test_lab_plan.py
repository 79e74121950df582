"""The lab's pure parts: release and source lists, the state file, each host's inventory data."""

import sys

import pytest
from pyinfra.api import Inventory

from lab import images, mirror, plan, repack, state, versions
from lab.errors import LabError, LabNotUp
from lab.inventory import host_entry
from seedcore import validate
from seedcore.families.debian import official_package_list


def test_distros_give_one_per_host_in_order_and_the_last_repeats():
    assert plan.expand("bookworm,trixie,trixie", 5, "--distros", ("bookworm", "trixie")) == [
        "bookworm",
        "trixie",
        "trixie",
        "trixie",
        "trixie",
    ]
    assert plan.distros_for(3, "trixie", {}) == ["trixie", "trixie", "trixie"]
    assert plan.distros_for(2, "bookworm,trixie", {}) == ["bookworm", "trixie"]


@pytest.mark.parametrize(
    ("listing", "message"),
    [
        ("bookworm,sid", "--distros: unknown value 'sid' (known: bookworm, trixie)"),
        (
            "bookworm,,trixie",
            "--distros 'bookworm,,trixie': an empty entry; give comma-separated values, e.g. bookworm,trixie",
        ),
        ("bookworm,trixie,trixie", "--distros lists 3 values for 2 hosts: raise --hosts or list fewer"),
    ],
)
def test_bad_distro_lists_are_refused_with_one_line(listing, message):
    with pytest.raises(LabError) as refused:
        plan.distros_for(2, listing, {})
    assert str(refused.value) == message


def test_without_distros_running_hosts_keep_their_release_and_new_ones_are_bookworm():
    assert plan.distros_for(4, None, {2: "trixie", 3: "trixie"}) == [
        "bookworm",
        "trixie",
        "trixie",
        "bookworm",
    ]


def test_sources_default_by_release_unless_listed_or_recorded():
    distros = ["bookworm", "trixie", "bookworm", "trixie"]
    assert plan.sources_for(distros, None, {}) == ["distro", "docker", "distro", "docker"]
    assert plan.sources_for(distros, "docker,distro", {}) == ["docker", "distro", "distro", "distro"]
    # A host keeps the source recorded for it while its release is unchanged.
    assert plan.sources_for(distros, None, {2: ("trixie", "distro"), 3: ("trixie", "docker")}) == [
        "distro",
        "distro",
        "distro",
        "docker",
    ]
    with pytest.raises(LabError, match=r"^--sources: unknown value 'ppa' \(known: distro, docker\)$"):
        plan.sources_for(distros, "distro,ppa", {})


MIRROR_VERSIONS = {
    "bookworm": {
        "docker.io": "20.10.24+dfsg1-1+deb12u1+b6+seedcore.lab1",
        "docker-compose": "1.29.2-3+seedcore.lab1",
    },
    "trixie": {
        "docker.io": "26.1.5+dfsg1-9+deb13u1+b1+seedcore.lab1",
        "docker-compose": "2.26.1-4+seedcore.lab1",
    },
}


def _state() -> dict:
    hosts = [
        {
            "name": "sclab-1",
            "ip": "10.9.0.11",
            "role": "head",
            "index": 1,
            "distro": "bookworm",
            "install_source": "distro",
        },
        {
            "name": "sclab-2",
            "ip": "10.9.0.12",
            "role": "worker",
            "index": 2,
            "distro": "trixie",
            "install_source": "docker",
        },
    ]
    mirror = {"url": "http://10.9.0.3", "key_fingerprint": "A" * 40, "versions": MIRROR_VERSIONS}
    return state.build(
        hosts, "10.9.0.2:5000", "127.0.0.1:5055", "10.9.0.2:5000/seedcore/ray:2.20.0-x", mirror
    )


def test_state_records_each_hosts_release_and_source_and_the_mirror():
    built = _state()
    assert built["hosts"] == [
        {
            "name": "sclab-1",
            "ip": "10.9.0.11",
            "role": "head",
            "distro": "bookworm",
            "install_source": "distro",
        },
        {
            "name": "sclab-2",
            "ip": "10.9.0.12",
            "role": "worker",
            "distro": "trixie",
            "install_source": "docker",
        },
    ]
    assert built["apt_mirror"] == {
        "url": "http://10.9.0.3",
        "key_fingerprint": "A" * 40,
        "versions": {
            "bookworm": {
                "docker.io": "20.10.24+dfsg1-1+deb12u1+b6+seedcore.lab1",
                "docker-compose": "1.29.2-3+seedcore.lab1",
            },
            "trixie": {
                "docker.io": "26.1.5+dfsg1-9+deb13u1+b1+seedcore.lab1",
                "docker-compose": "2.26.1-4+seedcore.lab1",
            },
        },
    }


def test_a_distro_host_gets_no_mirror_settings():
    name, data = host_entry(_state(), _state()["hosts"][0])
    assert name == "sclab-1"
    assert data["docker_install_source"] == "distro"
    assert not {
        "docker_apt_url",
        "docker_apt_key_fingerprint",
        "docker_official_packages",
        "docker_version",
        "docker_pinned_packages",
    } & set(data)
    assert data["docker_insecure_registries"] == ["10.9.0.2:5000"]


def test_a_mirror_host_installs_debians_package_names_from_the_mirror_checked_by_fingerprint():
    name, data = host_entry(_state(), _state()["hosts"][1])
    assert name == "sclab-2"
    assert data["docker_install_source"] == "docker"
    # The deploy appends /<distribution id> (Docker's layout): http://10.9.0.3/debian
    assert data["docker_apt_url"] == "http://10.9.0.3"
    assert data["docker_apt_key_fingerprint"] == "A" * 40
    assert data["docker_official_packages"] == ["docker.io", "docker-compose"]
    # The engine is pinned to the version only the mirror has, for the host's release.
    assert data["docker_version"] == "26.1.5+dfsg1-9+deb13u1+b1+seedcore.lab1"
    assert data["docker_pinned_packages"] == ["docker.io"]
    # What apt is asked to install: docker-compose unpinned resolves to the
    # mirror's suffixed version, the newest candidate.
    assert official_package_list(data) == [
        "docker.io=26.1.5+dfsg1-9+deb13u1+b1+seedcore.lab1",
        "docker-compose",
    ]


def test_the_lab_inventory_passes_the_deploys_validation(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["pyinfra", "inventories/lab.py", "deploy/cluster.py"])
    built = _state()
    head, worker = (host_entry(built, entry) for entry in built["hosts"])
    inventory = Inventory(([head, worker], {}), ray_head=([head], {}), ray_workers=([worker], {}))
    assert validate.check_inventory(inventory) == []


def test_a_state_without_mirror_versions_is_refused_with_the_fix():
    built = _state()
    del built["apt_mirror"]["versions"]
    with pytest.raises(LabNotUp) as refused:
        host_entry(built, built["hosts"][1])
    assert str(refused.value) == (
        "the lab is not up: run `make lab` (or python -m lab up) "
        "(state.json records no apt mirror version of docker.io for trixie)"
    )


def test_images_are_per_release_and_the_default_release_keeps_the_plain_names():
    assert images.image_name("host", "bookworm") == "host"
    assert images.image_name("host", "trixie") == "host-trixie"
    recipes = images.recipes()
    assert list(recipes) == ["base", "base-trixie", "host", "host-trixie", "registry", "ray", "apt-mirror"]
    assert recipes["host-trixie"].build_args == (("BASE", recipes["base-trixie"].tag),)
    assert dict(recipes["apt-mirror"].build_args) == {
        "BASE": recipes["base"].tag,
        "HOST_BOOKWORM": recipes["host"].tag,
        "HOST_TRIXIE": recipes["host-trixie"].tag,
    }
    # Content-hashed: the same inputs give the same tags; the two releases differ.
    assert images.tags() == {name: recipe.tag for name, recipe in recipes.items()}
    assert recipes["base"].tag.split(":")[1] != recipes["base-trixie"].tag.split(":")[1]


def test_versions_reads_docker_and_compose_from_the_probe_line():
    assert versions.parse("26.1.5+dfsg1 2.26.1-4\n") == ("26.1.5+dfsg1", "2.26.1-4")
    assert versions.parse("20.10.24+dfsg1 1.29.2\n") == ("20.10.24+dfsg1", "1.29.2")
    assert versions.parse("") == ("?", "?")


def test_the_apt_mirror_image_hashes_the_repack_step_as_an_input():
    recipe = images.recipes()["apt-mirror"]
    assert recipe.modules == ("repack.py",)
    without = images.derived_tag("apt-mirror", recipe.context, recipe.build_args, recipe.ca_bundle)
    assert recipe.tag != without


# A trimmed control file of trixie's docker.io (continuation line and field order kept).
DOCKER_IO = """Package: docker.io
Source: docker.io (26.1.5+dfsg1-9+deb13u1)
Version: 26.1.5+dfsg1-9+deb13u1+b1
Architecture: amd64
Depends: libc6 (>= 2.34), adduser, containerd (>= 1.4~),
 runc (>= 1.0.0~rc8~), tini
Breaks: docker-ce (<< 1:18~)
Description: Linux container runtime
 Docker complements kernel namespacing.
"""
COMPOSE = """Package: docker-compose
Version: 2.26.1-4
Architecture: amd64
Recommends: docker.io (>= 1.9.0)
Description: tool for running multi-container applications
"""
CONTAINERD = """Package: containerd
Version: 1.7.24~ds1-6+deb13u1
Architecture: amd64
Breaks: docker.io (<< 1.12)
Description: daemon to control runC
"""


def test_versions_get_the_mirrors_suffix_once():
    assert repack.suffixed("26.1.5+dfsg1-9+deb13u1+b1") == "26.1.5+dfsg1-9+deb13u1+b1+seedcore.lab1"
    assert repack.suffixed("5:27.3.1-1~debian.12~bookworm") == "5:27.3.1-1~debian.12~bookworm+seedcore.lab1"
    assert repack.suffixed("2.26.1-4+seedcore.lab1") == "2.26.1-4+seedcore.lab1"
    with pytest.raises(ValueError):
        repack.suffixed("1.0 2.0")


def test_repacking_changes_only_the_version_of_docker_io_and_docker_compose():
    planned = repack.plan({"a.deb": DOCKER_IO, "b.deb": COMPOSE, "c.deb": CONTAINERD})
    assert sorted(planned) == ["a.deb", "b.deb"]
    assert planned["a.deb"] == DOCKER_IO.replace(
        "Version: 26.1.5+dfsg1-9+deb13u1+b1\n", "Version: 26.1.5+dfsg1-9+deb13u1+b1+seedcore.lab1\n"
    )
    # A range relation on a repacked package is kept: the new version satisfies it.
    assert planned["b.deb"] == COMPOSE.replace("Version: 2.26.1-4\n", "Version: 2.26.1-4+seedcore.lab1\n")
    assert repack.deb_name(planned["a.deb"]) == "docker.io_26.1.5+dfsg1-9+deb13u1+b1+seedcore.lab1_amd64.deb"
    assert repack.deb_name("Package: x\nVersion: 1:2.0-1\nArchitecture: all\n") == "x_2.0-1_all.deb"


def test_a_package_pinning_a_repacked_one_exactly_is_repacked_and_repinned():
    plugin = """Package: docker-compose-plugin-shim
Version: 1.0-1
Architecture: all
Depends: docker-compose (= 2.26.1-4), libc6 (>= 2.34)
Description: pins Compose exactly
"""
    pinner = """Package: pins-the-shim
Version: 3
Architecture: all
Pre-Depends: docker-compose-plugin-shim:amd64 (= 1.0-1)
Description: pins the shim exactly
"""
    other = CONTAINERD.replace("Breaks:", "Depends: docker.io (= 20.10.5-1)\nBreaks:")
    planned = repack.plan({"a": DOCKER_IO, "b": COMPOSE, "c": other, "d": plugin, "e": pinner})
    # containerd pins a version of docker.io that is not in the set: left alone.
    assert sorted(planned) == ["a", "b", "d", "e"]
    assert repack.fields(planned["d"])["Version"] == "1.0-1+seedcore.lab1"
    assert repack.fields(planned["d"])["Depends"] == (
        "docker-compose (= 2.26.1-4+seedcore.lab1), libc6 (>= 2.34)"
    )
    assert repack.fields(planned["e"])["Pre-Depends"] == (
        "docker-compose-plugin-shim:amd64 (= 1.0-1+seedcore.lab1)"
    )


def test_a_package_set_without_docker_io_is_refused():
    with pytest.raises(ValueError, match=r"^the package set has no docker.io$"):
        repack.plan({"b": COMPOSE, "c": CONTAINERD})


PACKAGES_INDEX = """Package: containerd
Version: 1.7.24~ds1-6+deb13u1
Filename: pool/stable/c/containerd/containerd_1.7.24~ds1-6+deb13u1_amd64.deb

Package: docker-compose
Version: 2.26.1-4+seedcore.lab1
Depends: libc6 (>= 2.34)

Package: docker.io
Source: docker.io (26.1.5+dfsg1-9+deb13u1)
Version: 26.1.5+dfsg1-9+deb13u1+b1+seedcore.lab1
Description: Linux container runtime
 Version: 1 in a description is not a field
"""


def test_the_mirrors_versions_are_read_from_its_packages_index():
    assert mirror.published_versions("trixie", PACKAGES_INDEX) == MIRROR_VERSIONS["trixie"]


def test_an_index_without_the_mirrors_suffix_is_refused():
    plain = PACKAGES_INDEX.replace("2.26.1-4+seedcore.lab1", "2.26.1-4")
    with pytest.raises(LabError) as refused:
        mirror.published_versions("trixie", plain)
    assert str(refused.value) == (
        "the apt mirror's trixie index lists docker-compose with version 2.26.1-4, not a version "
        "ending in +seedcore.lab1: rebuild the apt-mirror image (python -m lab up)"
    )
