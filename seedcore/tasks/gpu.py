"""GPU hosts: NVIDIA's container toolkit and its Docker runtime.

The driver itself is the host's own (checked in preflight, never installed
here). NVIDIA's repository goes through the same signed path as Docker's:
its key is checked against gpu_toolkit_key_fingerprint before apt trusts it,
and `apt-get update` stops the host when the signature does not verify.
daemon.json is rendered with the same runtime entry `nvidia-ctk` writes, so a
re-run leaves it alone; `nvidia-ctk` runs only if the entry is missing, and
Docker restarts only when that changed the file.
"""

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.facts.deb import DebArch
from pyinfra.operations import apt, systemd

from seedcore.changes import after_change
from seedcore.defaults import GPU_DEFAULTS
from seedcore.families import host_family
from seedcore.gpu import toolkit_uri
from seedcore.hostfacts import read_fact
from seedcore.operations import gpu
from seedcore.signed_apt import KEYRING_DIR

KEYRING = f"{KEYRING_DIR}/nvidia-container-toolkit.gpg"


def toolkit_packages(settings: dict) -> list[str]:
    version = settings["gpu_toolkit_version"]
    return [f"nvidia-container-toolkit={version}" if version else "nvidia-container-toolkit"]


@deploy("Install the NVIDIA container runtime", data_defaults=GPU_DEFAULTS)
def install_nvidia_runtime(settings: dict):
    packages = toolkit_packages(settings)
    host_family(host).signed_repository(
        "NVIDIA's container toolkit", "nvidia-container-toolkit",
        f"{settings['gpu_toolkit_apt_url'].rstrip('/')}/gpgkey", KEYRING,
        settings["gpu_toolkit_key_fingerprint"], "gpu_toolkit_key_fingerprint", "gpu_toolkit_apt_url",
        toolkit_uri(settings, read_fact(host, DebArch) or "amd64"), ["/"], [], packages,
    )
    apt.packages(
        name="Install the NVIDIA container toolkit",
        packages=packages,
        allow_downgrades=bool(settings["gpu_toolkit_version"]),
    )
    runtime = gpu.nvidia_runtime_configured(name="Register the NVIDIA runtime with Docker")
    if changed := after_change(runtime):
        systemd.service(name="Restart Docker because nvidia-ctk changed daemon.json", service="docker",
                        restarted=True, _if=changed)
