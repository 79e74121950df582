"""Pure GPU decisions: the image a GPU host runs, its GPU count, how Compose
asks for the GPUs, and the daemon.json entry of the NVIDIA runtime."""

import re

NVIDIA_RUNTIME = {"nvidia": {"args": [], "path": "nvidia-container-runtime"}}


def gpu_image(settings: dict) -> str:
    """gpu_image, or ray_image with "-gpu" added to its tag unless that tag
    already names a GPU build."""
    if settings["gpu_image"]:
        return settings["gpu_image"]
    image = settings["ray_image"] or ""
    if looks_like_gpu_image(image):
        return image
    name, _, tag = image.rpartition(":")
    if "/" in tag or not name:
        return f"{image}:latest-gpu"
    return f"{name}:{tag}-gpu"


def looks_like_gpu_image(image: str) -> bool:
    """A tag naming a GPU or CUDA build: -gpu, -cuda12.1, Ray's own -cu121."""
    tag = image.rsplit("/", 1)[-1].partition(":")[2].lower()
    return bool(re.search(r"gpu|cuda|(^|[-_.])cu\d{2,3}", tag))


def toolkit_packages(settings: dict) -> list[str]:
    """NVIDIA's container toolkit, pinned to gpu_toolkit_version when set."""
    version = settings["gpu_toolkit_version"]
    return [f"nvidia-container-toolkit={version}" if version else "nvidia-container-toolkit"]


def compose_gpu_mode(compose_cli: str | None, compose_version: str | None) -> str:
    """"devices" (deploy.resources.reservations.devices) where Compose supports
    it: v2, and v1 from 1.28; "runtime" (runtime: nvidia) on older v1."""
    if compose_cli != "docker-compose" or not compose_version:
        return "devices"
    parts = [int(p) for p in compose_version.split(".")[:2] if p.isdigit()]
    return "devices" if parts >= [1, 28] else "runtime"


def gpu_count_problem(host_name: str, detected: dict, pinned: int) -> str | None:
    """Why a `gpu` host cannot be deployed, or None."""
    if not detected["working"]:
        return (
            f"host {host_name} is in group gpu but has no working NVIDIA driver "
            f"({detected['error']}): install the driver (nvidia-smi must answer) "
            "or take the host out of the gpu group"
        )
    if pinned and detected["count"] != pinned:
        return (
            f"host {host_name}: gpu_count is {pinned} but nvidia-smi reports "
            f"{detected['count']} GPUs: fix the hardware or the pin"
        )
    return None
