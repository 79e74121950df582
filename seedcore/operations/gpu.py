"""Operations for GPU hosts. Each reads facts, decides, and yields commands or
calls ``host.noop``."""

from pyinfra import host
from pyinfra.api import operation

from seedcore.facts.host import FileText

DAEMON_JSON = "/etc/docker/daemon.json"


def runtime_registered() -> bool:
    """Whether the host's daemon.json already names the NVIDIA runtime."""
    return '"nvidia-container-runtime"' in (host.get_fact(FileText, path=DAEMON_JSON) or "")


@operation()
def nvidia_runtime_configured():
    """
    Register the NVIDIA runtime in ``/etc/docker/daemon.json`` with
    ``nvidia-ctk runtime configure --runtime=docker`` unless it is there.

    **Example:**

    .. code:: python

        gpu.nvidia_runtime_configured(name="Register the NVIDIA runtime with Docker")
    """
    if runtime_registered():
        host.noop("the NVIDIA runtime is in daemon.json")
        return
    yield "nvidia-ctk runtime configure --runtime=docker"
