"""Each lab host's pyinfra host data, from the lab's state (used by inventories/lab.py)."""

from lab.config import STATE_FILE, gateway_ip
from lab.errors import LabNotUp

# What a host installing from the lab's mirror installs: Debian's package names,
# since the mirror carries Debian's packages, not Docker's docker-ce set.
MIRROR_PACKAGES = ["docker.io", "docker-compose"]
# What docker_version pins on a mirror host: the engine, at the version only the
# mirror has (lab/repack.py). docker-compose, unpinned, resolves to the mirror's
# too, its version being the newest candidate.
MIRROR_PINNED = ["docker.io"]


def mirror_version(state: dict, codename: str, package: str) -> str:
    """The version of `package` the lab's mirror publishes for `codename`."""
    version = state["apt_mirror"].get("versions", {}).get(codename, {}).get(package)
    if not version:
        raise LabNotUp(f"{STATE_FILE.name} records no apt mirror version of {package} for {codename}")
    return version


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
        # The e2e tests and `make demo` reach the dashboard, Serve, metrics and
        # Prometheus from this machine, which the lab network sees as its
        # gateway: the host firewall admits it like an operator's address.
        "firewall_allow_cidrs": [f"{gateway_ip()}/32"],
    }
    if state.get("bastion"):
        # Every host through the bastion (ProxyJump in the lab's ssh config).
        data["ssh_config_file"] = state["bastion"]["ssh_config"]
    if data["docker_install_source"] == "docker":
        mirror = state["apt_mirror"]
        data.update(
            {
                "docker_apt_url": mirror["url"],
                "docker_apt_key_fingerprint": mirror["key_fingerprint"],
                "docker_official_packages": list(MIRROR_PACKAGES),
                "docker_version": mirror_version(state, entry["distro"], MIRROR_PINNED[0]),
                "docker_pinned_packages": list(MIRROR_PINNED),
            }
        )
    return entry["name"], data
