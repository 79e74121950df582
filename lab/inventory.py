"""Each lab host's pyinfra host data, from the lab's state (used by inventories/lab.py)."""

import os
import secrets

from lab.config import (
    GCS_STORE_PASSWORD_ENV,
    GCS_STORE_PASSWORD_FILE,
    STATE_FILE,
    WEB_PASSWORD_ENV,
    WEB_PASSWORD_FILE,
    gateway_ip,
)
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


def _lab_secret(path) -> str:
    """A password of the lab's, made on first use into `path` (0600) and read back after."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(24) + "\n")
    return path.read_text().strip()


def web_password() -> str:
    """The lab's web door password: `.lab/web-password`, made on first use (0600)."""
    return _lab_secret(WEB_PASSWORD_FILE)


def export_web_password() -> None:
    """Give the deploy the lab's door password, as an operator exports theirs from a secret
    store, unless this shell already holds one."""
    os.environ.setdefault(WEB_PASSWORD_ENV, web_password())


def export_gcs_store_password() -> None:
    """The demo cluster's GCS store password (`.lab/gcs-store-password`), unless this shell
    already holds one."""
    os.environ.setdefault(GCS_STORE_PASSWORD_ENV, _lab_secret(GCS_STORE_PASSWORD_FILE))
