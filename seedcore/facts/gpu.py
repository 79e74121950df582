"""Facts about NVIDIA GPUs and the container runtime that exposes them."""

import json

from pyinfra.api import FactBase
from pyinfra.api.command import QuoteString, StringCommand

NO_NVIDIA_SMI = "NO_NVIDIA_SMI"


class NvidiaGpus(FactBase):
    """
    What ``nvidia-smi`` says about the host's GPUs.

    Returns ``{"working": bool, "count": int, "driver": str, "names": [str], "error": str}``;
    ``working`` is false when nvidia-smi is missing or cannot reach the driver
    (for example after a driver/library version mismatch).
    """

    def command(self) -> str:
        return (
            f"if ! command -v nvidia-smi >/dev/null 2>&1; then echo {NO_NVIDIA_SMI}; else "
            "nvidia-smi --query-gpu=index,name,driver_version --format=csv,noheader 2>&1; "
            'echo "exit=$?"; fi'
        )

    def process(self, output):
        lines = [line.strip() for line in output if line.strip()]
        if lines == [NO_NVIDIA_SMI]:
            return {"working": False, "count": 0, "driver": "", "names": [],
                    "error": "nvidia-smi not found: no NVIDIA driver installed"}
        status = next((line for line in lines if line.startswith("exit=")), "exit=1")
        body = [line for line in lines if not line.startswith("exit=")]
        gpus = [row.split(", ") for row in body]
        if status != "exit=0" or not gpus or any(len(fields) != 3 for fields in gpus):
            return {"working": False, "count": 0, "driver": "", "names": [],
                    "error": " ".join(body) or f"nvidia-smi failed ({status})"}
        return {
            "working": True,
            "count": len(gpus),
            "driver": gpus[0][2],
            "names": [fields[1] for fields in gpus],
            "error": "",
        }


class DockerRuntimes(FactBase):
    """
    The runtimes the Docker engine has registered (e.g. ``["io.containerd.runc.v2",
    "nvidia", "runc"]``); empty when Docker is absent or down.
    """

    @staticmethod
    def default():
        return []

    def command(self) -> str:
        return "docker info --format '{{json .Runtimes}}' 2>/dev/null || true"

    def process(self, output):
        text = "".join(output).strip()
        if not text.startswith("{"):
            return []
        return sorted(json.loads(text))


class ContainerGpus(FactBase):
    """
    GPUs ``nvidia-smi -L`` lists inside a running container; ``None`` when
    nvidia-smi fails there.

    + container: the container name
    """

    def command(self, container: str) -> StringCommand:
        return StringCommand("docker exec", QuoteString(container), 'nvidia-smi -L 2>&1; echo "exit=$?"')

    def process(self, output):
        lines = [line.strip() for line in output if line.strip()]
        if not lines or lines[-1] != "exit=0":
            return None
        return [line for line in lines[:-1] if line.startswith("GPU ")]
