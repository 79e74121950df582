"""Operations for GPU hosts. Each reads facts, decides, and yields commands or
calls ``host.noop``."""

from pyinfra import host
from pyinfra.api import operation

from deploy.facts.host import FileText

DAEMON_JSON = "/etc/docker/daemon.json"


@operation()
def nvidia_runtime_configured():
    """
    Register the NVIDIA runtime in ``/etc/docker/daemon.json`` with
    ``nvidia-ctk runtime configure --runtime=docker`` unless it is there.

    **Example:**

    .. code:: python

        gpu.nvidia_runtime_configured(name="Register the NVIDIA runtime with Docker")
    """
    daemon = host.get_fact(FileText, path=DAEMON_JSON) or ""
    if '"nvidia-container-runtime"' in daemon:
        host.noop("the NVIDIA runtime is in daemon.json")
        return
    yield "nvidia-ctk runtime configure --runtime=docker"
