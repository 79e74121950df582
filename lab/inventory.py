"""Each lab host's pyinfra host data, from the lab's state (used by inventories/lab.py)."""

# What a host installing from the lab's mirror installs: Debian's package names,
# since the mirror carries Debian's packages, not Docker's docker-ce set.
MIRROR_PACKAGES = ["docker.io", "docker-compose"]


def host_entry(state: dict, entry: dict) -> tuple[str, dict]:
    """(name, data) for one host of `state` (see lab/state.py)."""
    data = {
        "ssh_hostname": entry["ip"],
        "ssh_user": state["ssh_user"],
        "ssh_key": state["ssh_key"],
        "ssh_known_hosts_file": state["known_hosts"],
        "ssh_strict_host_key_checking": "yes",
        "_sudo": True,
        "ray_image": state["ray_image"],
        "docker_install_source": entry.get("install_source", "distro"),
        "docker_insecure_registries": [state["registry"]["address"]],
    }
    if data["docker_install_source"] == "docker":
        mirror = state["apt_mirror"]
        data.update(
            {
                "docker_apt_url": mirror["url"],
                "docker_apt_key_fingerprint": mirror["key_fingerprint"],
                "docker_official_packages": list(MIRROR_PACKAGES),
            }
        )
    return entry["name"], data
