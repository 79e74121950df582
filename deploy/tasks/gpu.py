"""GPU hosts: NVIDIA's container toolkit and its Docker runtime.

The driver itself is the host's own (checked in preflight, never installed
here). daemon.json is rendered with the same runtime entry `nvidia-ctk`
writes, so a re-run leaves it alone; `nvidia-ctk` runs only if the entry is
missing, and Docker restarts only when that changed the file.
"""

from pyinfra.api import deploy
from pyinfra.operations import apt, systemd

from deploy.defaults import GPU_DEFAULTS
from deploy.operations import gpu
from deploy.tasks.docker import apt_signing_key

KEYRING = "/etc/apt/keyrings/nvidia-container-toolkit.asc"


def toolkit_packages(settings: dict) -> list[str]:
    version = settings["gpu_toolkit_version"]
    return [f"nvidia-container-toolkit={version}" if version else "nvidia-container-toolkit"]


def toolkit_source(settings: dict) -> str:
    url = settings["gpu_toolkit_apt_url"]
    return f"deb [signed-by={KEYRING}] {url}/stable/deb/$(ARCH) /"


@deploy("Install the NVIDIA container runtime", data_defaults=GPU_DEFAULTS)
def install_nvidia_runtime(settings: dict):
    apt_signing_key("NVIDIA's container toolkit signing key", f"{settings['gpu_toolkit_apt_url']}/gpgkey",
                    KEYRING)
    repository = apt.repo(
        name="Add NVIDIA's container toolkit repository, signed by its key",
        src=toolkit_source(settings),
        filename="nvidia-container-toolkit",
    )
    apt.update(name="Refresh apt after adding NVIDIA's repository", _if=repository.did_change)
    apt.packages(
        name="Install the NVIDIA container toolkit",
        packages=toolkit_packages(settings),
        allow_downgrades=bool(settings["gpu_toolkit_version"]),
    )
    runtime = gpu.nvidia_runtime_configured(name="Register the NVIDIA runtime with Docker")
    systemd.service(
        name="Restart Docker because nvidia-ctk changed daemon.json",
        service="docker",
        restarted=True,
        _if=runtime.did_change,
    )
