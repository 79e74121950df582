"""`.lab/state.json`: what `up` made, for the inventory, the tests and `status`.

{"network": "seedcore-lab", "subnet": "172.29.77.0/24",
 "ssh_user": "seedcore", "ssh_key": "<abs path>", "known_hosts": "<abs path>",
 "registry": {"address": "<ip>:5000", "push_address": "127.0.0.1:5055"},
 "ray_image": "<ip>:5000/seedcore/ray:2.20.0-<hash>",
 "apt_mirror": {"url": "http://<ip>", "key_fingerprint": "<40 hex digits>",
                "versions": {"trixie": {"docker.io": "26.1.5+dfsg1-9+deb13u1+b1+seedcore.lab1",
                                        "docker-compose": "2.26.1-4+seedcore.lab1"}, ...}},
 "hosts": [{"name": "seedcore-lab-1", "ip": "...", "role": "head",
            "distro": "bookworm", "install_source": "distro"},
           {"name": "seedcore-lab-2", "ip": "...", "role": "worker",
            "distro": "trixie", "install_source": "docker"}, ...]}
"""

import json
import os
import tempfile

from lab import docker
from lab.config import KNOWN_HOSTS, NETWORK, SSH_KEY, SSH_USER, STATE_FILE, SUBNET
from lab.errors import LabError, LabNotUp

HOST_KEYS = ("name", "ip", "role", "distro", "install_source")


def build(hosts: list[dict], registry_address: str, push_address: str, ray_image: str, mirror: dict,
          bastion: dict | None = None) -> dict:
    """`mirror`: {"url": ..., "key_fingerprint": ..., "versions": {codename: {package: version}}}
    (the versions of the packages repacked for the mirror); each host entry carries HOST_KEYS;
    `bastion`: {"name", "ip", "user", "alias", "ssh_config"} on a bastion lab, else None."""
    return {
        "bastion": bastion,
        "network": NETWORK,
        "subnet": str(SUBNET),
        "ssh_user": SSH_USER,
        "ssh_key": str(SSH_KEY),
        "known_hosts": str(KNOWN_HOSTS),
        "registry": {"address": registry_address, "push_address": push_address},
        "ray_image": ray_image,
        "apt_mirror": {
            "url": mirror["url"],
            "key_fingerprint": mirror["key_fingerprint"],
            "versions": {codename: dict(packages) for codename, packages in mirror["versions"].items()},
        },
        "hosts": [{key: host[key] for key in HOST_KEYS} for host in hosts],
    }


def save(state: dict) -> None:
    """Write the state atomically, so readers never see half a file."""
    STATE_FILE.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=STATE_FILE.parent, prefix=".state-")
    with os.fdopen(handle, "w") as out:
        json.dump(state, out, indent=2)
        out.write("\n")
    os.replace(temporary, STATE_FILE)


def load() -> dict:
    """The state `up` wrote; LabNotUp when there is none."""
    try:
        return json.loads(STATE_FILE.read_text())
    except FileNotFoundError:
        raise LabNotUp(f"no {STATE_FILE}") from None
    except json.JSONDecodeError as error:
        raise LabNotUp(f"{STATE_FILE} is unreadable: {error}") from None


def require_up() -> dict:
    """The state, once every host it lists is checked to be running; LabNotUp otherwise."""
    state = load()
    try:
        running = set(docker.lab_objects("container", ("status=running",)))
    except LabError as error:
        raise LabNotUp(str(error)) from None
    missing = [host["name"] for host in state["hosts"] if host["name"] not in running]
    if missing:
        raise LabNotUp(f"not running: {', '.join(missing)}")
    return state


def clear() -> None:
    STATE_FILE.unlink(missing_ok=True)
    KNOWN_HOSTS.unlink(missing_ok=True)
