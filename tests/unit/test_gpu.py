"""GPU decisions and rendering, with GPU facts as nvidia-smi and Compose report them."""

import json

import yaml

from seedcore import gpu, render, validate
from seedcore.commands import ray_start_args
from seedcore.families.debian import toolkit_uri
from seedcore.gpu import toolkit_packages
from tests.harness import make_node, make_settings


def gpu_node(gpus=2, mode="devices", **settings):
    node = make_node(role="worker", settings=settings)
    return type(node)(**{**node.__dict__, "gpus": gpus, "gpu_mode": mode})


def service(node):
    document = yaml.safe_load(render.compose_file(node, "h"))
    return next(iter(document["services"].values()))


def test_gpu_image_adds_gpu_to_the_tag_unless_set():
    assert gpu.gpu_image(make_settings({"ray_image": "reg:5000/seedcore/ray:2.20.0"})) == (
        "reg:5000/seedcore/ray:2.20.0-gpu"
    )
    assert gpu.gpu_image(make_settings({"gpu_image": "reg/ray:2.20.0-cu121"})) == "reg/ray:2.20.0-cu121"


def test_compose_gpu_mode_follows_the_compose_version():
    assert gpu.compose_gpu_mode("docker compose", "2.24.6") == "devices"
    assert gpu.compose_gpu_mode("docker-compose", "1.29.2") == "devices"
    assert gpu.compose_gpu_mode("docker-compose", "1.27.4") == "runtime"
    assert gpu.compose_gpu_mode(None, None) == "devices"


def test_a_ray_image_that_already_names_a_gpu_build_is_not_suffixed_twice():
    # Seen on a real GPU host's --dry: ray_image ...:2.20.0-gpu was pulled as ...:2.20.0-gpu-gpu.
    assert gpu.gpu_image(make_settings({"ray_image": "reg:5000/seedcore/ray:2.20.0-gpu"})) == (
        "reg:5000/seedcore/ray:2.20.0-gpu"
    )
    assert gpu.gpu_image(make_settings({"ray_image": "rayproject/ray:2.20.0-py311-cu121"})) == (
        "rayproject/ray:2.20.0-py311-cu121"
    )


def test_gpu_host_compose_requests_its_gpus_and_runs_the_gpu_image():
    node = gpu_node(gpus=2)
    svc = service(node)
    assert svc["image"].endswith("-gpu")
    assert svc["deploy"]["resources"]["reservations"]["devices"] == [
        {"driver": "nvidia", "count": 2, "capabilities": ["gpu"]}
    ]
    assert "--num-gpus=2" in svc["command"]


def test_old_compose_gets_the_nvidia_runtime_instead():
    svc = service(gpu_node(gpus=1, mode="runtime"))
    assert svc["runtime"] == "nvidia"
    assert "deploy" not in svc


def test_cpu_host_is_untouched_by_gpu_settings():
    node = make_node(role="worker")
    svc = service(node)
    assert "deploy" not in svc and "runtime" not in svc
    assert not any(arg.startswith("--num-gpus") for arg in ray_start_args(node))
    assert svc["image"] == node.settings["ray_image"]
    assert "runtimes" not in json.loads(render.daemon_json(node.settings))


def test_gpu_daemon_json_has_the_entry_nvidia_ctk_writes():
    document = json.loads(render.daemon_json(make_settings(), gpu=True))
    assert document["runtimes"] == {"nvidia": {"args": [], "path": "nvidia-container-runtime"}}


def test_gpu_count_problems_name_the_host_and_the_fix():
    no_driver = {"working": False, "count": 0, "error": "nvidia-smi not found"}
    message = gpu.gpu_count_problem("gpu-1", no_driver, 0)
    assert "gpu-1" in message and "no working NVIDIA driver" in message and "gpu group" in message
    four = {"working": True, "count": 4, "error": ""}
    assert "gpu_count is 8 but nvidia-smi reports 4" in gpu.gpu_count_problem("gpu-1", four, 8)
    assert gpu.gpu_count_problem("gpu-1", four, 4) is None
    assert gpu.gpu_count_problem("gpu-1", four, 0) is None


def test_gpu_image_on_a_cpu_host_is_refused():
    assert validate.check_cpu_image("cpu-1", make_settings({"gpu_image": "reg/ray:2.20.0-gpu"}))
    refused = validate.check_cpu_image("cpu-1", make_settings({"ray_image": "reg/ray:2.20.0-gpu"}))
    assert refused and "cpu-1" in refused[0] and "not in group gpu" in refused[0]
    assert validate.check_cpu_image("cpu-1", make_settings({"ray_image": "reg/ray:2.20.0"})) == []


def test_toolkit_repository_is_flat_per_architecture_and_the_version_pinned_when_set():
    settings = make_settings()
    assert toolkit_uri(settings, "arm64") == "https://nvidia.github.io/libnvidia-container/stable/deb/arm64"
    assert toolkit_packages(settings) == ["nvidia-container-toolkit"]
    pinned = make_settings({"gpu_toolkit_version": "1.17.3-1"})
    assert toolkit_packages(pinned) == ["nvidia-container-toolkit=1.17.3-1"]
