"""The lab's pure parts: release and source lists, the state file, each host's inventory data."""

import pytest

from lab import images, plan, state, versions
from lab.errors import LabError
from lab.inventory import host_entry


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
    mirror = {"url": "http://10.9.0.3", "key_fingerprint": "A" * 40}
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
    assert built["apt_mirror"] == {"url": "http://10.9.0.3", "key_fingerprint": "A" * 40}


def test_a_distro_host_gets_no_mirror_settings():
    name, data = host_entry(_state(), _state()["hosts"][0])
    assert name == "sclab-1"
    assert data["docker_install_source"] == "distro"
    assert not {"docker_apt_url", "docker_apt_key_fingerprint", "docker_official_packages"} & set(data)
    assert data["docker_insecure_registries"] == ["10.9.0.2:5000"]


def test_a_mirror_host_installs_debians_package_names_from_the_mirror_checked_by_fingerprint():
    name, data = host_entry(_state(), _state()["hosts"][1])
    assert name == "sclab-2"
    assert data["docker_install_source"] == "docker"
    # The deploy appends /<distribution id> (Docker's layout): http://10.9.0.3/debian
    assert data["docker_apt_url"] == "http://10.9.0.3"
    assert data["docker_apt_key_fingerprint"] == "A" * 40
    assert data["docker_official_packages"] == ["docker.io", "docker-compose"]


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
