"""Names, addresses and paths shared by every part of the lab."""

import ipaddress
import os
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
IMAGES_DIR = Path(__file__).resolve().parent / "images"

# Local, per-checkout files (gitignored).
LAB_DIR = REPO / ".lab"
SSH_KEY = LAB_DIR / "id_ed25519"
KNOWN_HOSTS = LAB_DIR / "known_hosts"
STATE_FILE = LAB_DIR / "state.json"
LOG_DIR = LAB_DIR / "logs"
LOCK_FILE = LAB_DIR / "lock"
# The web door's password for the lab's cluster (made once per checkout, 0600), and the
# variable the deploy reads it from (web_password_env's default).
WEB_PASSWORD_FILE = LAB_DIR / "web-password"
WEB_PASSWORD_ENV = "SEEDCORE_WEB_PASSWORD"
# The GCS store's Redis password of the demo cluster (inventories/demo.py), made on first use.
GCS_STORE_PASSWORD_FILE = LAB_DIR / "gcs-store-password"
GCS_STORE_PASSWORD_ENV = "SEEDCORE_GCS_STORE_PASSWORD"

# Every object the lab creates carries this label; the lab finds its objects by it.
LABEL = "io.seedcore.lab"
# Two labs can share one engine under different names (SEEDCORE_LAB_NAME, with
# their own SEEDCORE_LAB_SUBNET and SEEDCORE_LAB_REGISTRY_PORT); each sees only
# the objects labelled with its own name.
LAB_NAME = os.environ.get("SEEDCORE_LAB_NAME", "seedcore-lab")
if not re.fullmatch(r"[a-z][a-z0-9-]{0,30}", LAB_NAME):
    raise SystemExit(f"SEEDCORE_LAB_NAME={LAB_NAME!r}: use lowercase letters, digits and '-' (at most 31)")
NAME_LABEL = f"{LABEL}.name"
OWN_LABELS = (f"{LABEL}=1", f"{NAME_LABEL}={LAB_NAME}")
LABEL_FILTERS = tuple(f"label={label}" for label in OWN_LABELS)
ROLE_LABEL = f"{LABEL}.role"
INDEX_LABEL = f"{LABEL}.index"

IMAGE_PREFIX = "seedcore-lab"
NETWORK = LAB_NAME
# A fixed subnet gives every host and the registry a stable address, kept when a
# host is recreated. Override with SEEDCORE_LAB_SUBNET if it clashes locally.
SUBNET = ipaddress.ip_network(os.environ.get("SEEDCORE_LAB_SUBNET", "172.29.77.0/24"))
HOST_PREFIX = f"{LAB_NAME}-"
DEFAULT_HOSTS = 3
# Host N is at the subnet's address 10 + N (host_ip): the last index whose address
# is below the broadcast address. 244 on a /24.
FIRST_HOST_OFFSET = 10
MAX_HOSTS = SUBNET.num_addresses - FIRST_HOST_OFFSET - 2
# Hosts created, removed or waited on at once: enough to make 100 hosts practical,
# few enough that the engine's own CPU does not starve the hosts booting.
HOST_CONCURRENCY = 8

REGISTRY_NAME = f"{LAB_NAME}-registry"
REGISTRY_VOLUME = f"{LAB_NAME}-registry-data"
REGISTRY_PORT = 5000
# Published on loopback only, so the outer engine pushes without TLS.
REGISTRY_PUSH_PORT = int(os.environ.get("SEEDCORE_LAB_REGISTRY_PORT", "5055"))

SSH_USER = "seedcore"
RAY_VERSION = "2.20.0"
RAY_REPOSITORY = "seedcore/ray"

# The host's CA bundle: copied into images so apt over https and pip work inside.
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")

# The Debian releases a lab host can run, by codename: Debian 12 and Debian 13.
DISTROS = {"bookworm": "12", "trixie": "13"}
# The release of hosts that `up` is not told otherwise about, and of the
# registry, Ray and apt mirror images.
DEFAULT_DISTRO = "bookworm"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
DISTRO_LABEL = f"{LABEL}.distro"
SOURCE_LABEL = f"{LABEL}.install-source"
# How a host's Docker is installed: "distro" (the host's own archive) or
# "docker" (the lab's apt mirror, laid out like Docker's repository).
INSTALL_SOURCES = ("distro", "docker")
# The source a host of each release installs Docker from unless `up --sources` says otherwise.
DEFAULT_SOURCES = {"bookworm": "distro", "trixie": "docker"}

# The lab's signed apt mirror, served over plain HTTP (port 80) on the lab network.
MIRROR_NAME = f"{LAB_NAME}-apt-mirror"
# The mirror's signing key (secret, armored), made once per checkout.
MIRROR_KEY = LAB_DIR / "apt-mirror-key.asc"


def host_name(index: int) -> str:
    """`seedcore-lab-<index>`, counting from 1."""
    return f"{HOST_PREFIX}{index}"


def host_volume(name: str) -> str:
    """The named volume that holds a host's /var/lib/docker."""
    return f"{name}-docker"


def host_ip(index: int) -> str:
    """Host N gets the subnet's address 10 + N."""
    if not 1 <= index <= MAX_HOSTS:
        raise ValueError(f"lab host index {index} is outside 1..{MAX_HOSTS} for {SUBNET}")
    return str(SUBNET.network_address + FIRST_HOST_OFFSET + index)


def registry_ip() -> str:
    return str(SUBNET.network_address + 2)


def mirror_ip() -> str:
    return str(SUBNET.network_address + 3)


def mirror_url() -> str:
    """The mirror's root, as `docker_apt_url` (the deploy appends `/debian`)."""
    return f"http://{mirror_ip()}"


# The bastion (`up --bastion`): the one lab host the control machine may reach, by SSH
# only, as its own user; every other host is reached through it (ProxyJump).
BASTION_NAME = f"{LAB_NAME}-bastion"
BASTION_ALIAS = "seedcore-bastion"
BASTION_USER = "jump"
SSH_CONFIG = LAB_DIR / "ssh_config"


def bastion_ip() -> str:
    return str(SUBNET.network_address + 9)


# A container on the lab network that is in no inventory (`lab up --outsider`):
# what an attacker who reaches the hosts' network sees.
OUTSIDER_NAME = f"{LAB_NAME}-outsider"


def outsider_ip() -> str:
    return str(SUBNET.network_address + 5)


def gateway_ip() -> str:
    return str(SUBNET.network_address + 1)
