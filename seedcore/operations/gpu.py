"""Operations for GPU hosts. Each reads facts, decides, and yields commands or
calls ``host.noop``."""

from pyinfra import host
from pyinfra.api import operation

from seedcore import commands
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


@operation()
def docker_restarted_for_runtime(changes: tuple = ()):
    """
    Restart Docker when ``nvidia-ctk`` changed daemon.json, and only then.

    While the run is planned (and under ``--dry``) the facts decide, exactly as
    ``nvidia_runtime_configured`` decides whether to run ``nvidia-ctk``. Once
    the run executes, that step in ``changes`` has already run (and written
    the runtime), so its result decides.

    + changes: the ``nvidia_runtime_configured`` operation this restart follows

    **Example:**

    .. code:: python

        gpu.docker_restarted_for_runtime(name="Restart Docker because nvidia-ctk changed daemon.json",
                                         changes=[runtime])
    """
    if host.state.is_executing:
        if not any(change.did_change() for change in changes):
            host.noop("nvidia-ctk did not change daemon.json")
            return
    elif runtime_registered():
        host.noop("the NVIDIA runtime is in daemon.json: nvidia-ctk changes nothing")
        return
    yield commands.restart_docker()
