"""GPU hosts: NVIDIA's container toolkit and its Docker runtime.

The driver itself is the host's own (checked in preflight, never installed
here). The host's OS family installs the toolkit from NVIDIA's repository
(seedcore/families: the Debian family through the same signed path as Docker's).
daemon.json is rendered with the same runtime entry `nvidia-ctk` writes, so a
re-run leaves it alone; `nvidia-ctk` runs only if the entry is missing, and
Docker restarts only when that changed the file.
"""

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import systemd

from seedcore.changes import after_change
from seedcore.defaults import GPU_DEFAULTS
from seedcore.families import family_of
from seedcore.operations import gpu


@deploy("Install the NVIDIA container runtime", data_defaults=GPU_DEFAULTS)
def install_nvidia_runtime(settings: dict):
    family_of(host).install_gpu_toolkit(settings)
    runtime = gpu.nvidia_runtime_configured(name="Register the NVIDIA runtime with Docker")
    if changed := after_change(runtime):
        systemd.service(name="Restart Docker because nvidia-ctk changed daemon.json", service="docker",
                        restarted=True, _if=changed)
