"""Checks of the inventory and its data, run before any host is changed.

Each problem is one line naming the inventory file, the host, the key and
the fix. All problems are gathered, then reported together.
"""

import difflib
import os
import re
import sys

import yaml
from pyinfra.api.exceptions import PyinfraError

from deploy.defaults import ALL_DEFAULTS, REQUIRED_TYPES
from deploy.gpu import looks_like_gpu_image
from deploy.topology import (
    GPU_GROUP,
    HEAD_GROUP,
    WORKER_GROUP,
    is_gpu_host,
    node_address,
    settings_for,
)

KEY_PREFIXES = ("docker_", "ray_", "serve_", "verify_", "gpu_", "rollout_")

HEAD_PORT_KEYS = (
    "ray_gcs_port",
    "ray_dashboard_port",
    "ray_dashboard_agent_port",
    "ray_metrics_export_port",
    "ray_dashboard_metrics_port",
    "serve_http_port",
)
WORKER_PORT_KEYS = ("ray_dashboard_agent_port", "ray_metrics_export_port", "serve_http_port")


class InventoryError(PyinfraError):
    """The inventory or its data is wrong; nothing was changed."""


def inventory_name() -> str:
    return next((arg for arg in sys.argv[1:] if arg.endswith(".py")), "the inventory")


def port_keys(role: str) -> tuple[str, ...]:
    return HEAD_PORT_KEYS if role == "head" else WORKER_PORT_KEYS


def _type_name(expected) -> str:
    return {str: "a string", int: "an integer", bool: "true/false", list: "a list",
            dict: "a mapping"}.get(expected, expected.__name__)


def _type_ok(value, expected) -> bool:
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, expected)


def check_keys(host_name: str, data: dict) -> list[str]:
    """Unknown keys of ours (likely typos), wrong types, and unset required keys."""
    problems = []
    for key in data:
        if not key.startswith(KEY_PREFIXES) or key in ALL_DEFAULTS:
            continue
        close = difflib.get_close_matches(key, ALL_DEFAULTS, n=1)
        hint = f"did you mean {close[0]}?" if close else "see the README's data keys"
        problems.append(f"host {host_name}: unknown key {key}: {hint}")
    for key, default in ALL_DEFAULTS.items():
        value = data.get(key, default)
        expected = REQUIRED_TYPES.get(key) if default is None else type(default)
        if value is None:
            problems.append(f"host {host_name}: {key} must be set (in group_data or the inventory)")
        elif not _type_ok(value, expected):
            problems.append(
                f"host {host_name}: {key} must be {_type_name(expected)}, "
                f"got {type(value).__name__} {value!r}"
            )
    return problems


def check_values(host_name: str, role: str, s: dict) -> list[str]:
    """Ports, image reference and Serve config of one host."""
    problems = []
    seen: dict[int, str] = {}
    # A worker does not listen on the GCS port, but joins the head on it.
    gcs = s["ray_gcs_port"]
    if role != "head" and isinstance(gcs, int) and not 1 <= gcs <= 65535:
        problems.append(f"host {host_name}: ray_gcs_port={gcs} is out of range: use 1-65535")
    for key in port_keys(role):
        port = s[key]
        if not isinstance(port, int):
            continue
        if not 1 <= port <= 65535:
            problems.append(f"host {host_name}: {key}={port} is out of range: use 1-65535")
        elif port in seen:
            problems.append(
                f"host {host_name}: {key} and {seen[port]} are both {port}: "
                "two services cannot share a port; give each its own"
            )
        else:
            seen[port] = key
    image = s["ray_image"]
    if isinstance(image, str) and not _has_tag(image):
        problems.append(
            f"host {host_name}: ray_image {image!r} has no tag: "
            f"pin one, e.g. {image}:{s['ray_version']}"
        )
    batch = s["rollout_batch_size"]
    if isinstance(batch, int) and batch < 1:
        problems.append(
            f"host {host_name}: rollout_batch_size={batch} would restart no worker: use 1 or more"
        )
    secrets = s["ray_secret_env"]
    if isinstance(secrets, dict):
        for name, source in secrets.items():
            if source not in os.environ:
                problems.append(
                    f"host {host_name}: ray_secret_env {name} reads ${source}, which is not set "
                    "on this machine: export it (from your secret store) before the run"
                )
    login = s["docker_registry_login"]
    if login and s["docker_registry_password_env"] not in os.environ:
        problems.append(
            f"host {host_name}: docker_registry_login {login} needs the password in "
            f"${s['docker_registry_password_env']} (docker_registry_password_env): export it first"
        )
    problems += [f"host {host_name}: {line}" for line in check_apt_keys(s)]
    apps = s["serve_applications"]
    if isinstance(apps, list):
        for index, app in enumerate(apps):
            if not isinstance(app, dict) or not {"name", "import_path"} <= set(app):
                problems.append(
                    f"host {host_name}: serve_applications[{index}] must be a mapping with "
                    "at least name and import_path"
                )
    return problems


def check_apt_keys(s: dict) -> list[str]:
    """The expected repository key fingerprints, and a docker_version pin that pins something."""
    problems = []
    for key in ("docker_apt_key_fingerprint", "gpu_toolkit_key_fingerprint"):
        value = s[key]
        if isinstance(value, str) and not re.fullmatch(r"[0-9A-Fa-f]{40}", "".join(value.split())):
            problems.append(
                f"{key}={value!r} is not a key fingerprint: give the 40 hex digits of the "
                "repository key's primary key (gpg --show-keys --with-colons, its fpr line)"
            )
    pinned, official = s["docker_pinned_packages"], s["docker_official_packages"]
    if s["docker_version"] and isinstance(pinned, list) and isinstance(official, list):
        if not set(pinned) & set(official):
            problems.append(
                f"docker_version={s['docker_version']!r} pins none of docker_official_packages: "
                "list the packages it pins in docker_pinned_packages"
            )
    return problems


def check_cpu_image(host_name: str, s: dict) -> list[str]:
    """A host outside the `gpu` group must not be given a GPU image."""
    if s["gpu_image"]:
        return [
            f"host {host_name}: gpu_image is set but the host is not in group gpu: "
            "add it to gpu (it must have NVIDIA GPUs) or unset gpu_image for it"
        ]
    if isinstance(s["ray_image"], str) and looks_like_gpu_image(s["ray_image"]):
        return [
            f"host {host_name}: ray_image {s['ray_image']!r} is a GPU image but the host is not "
            "in group gpu: give CPU hosts a CPU image (GPU hosts use gpu_image)"
        ]
    return []


def _has_tag(image: str) -> bool:
    last = image.rsplit("/", 1)[-1]
    return "@" in last or ":" in last


def parse_serve_applications(value):
    """Accept a list or a YAML string holding one; raise ValueError otherwise."""
    if isinstance(value, str):
        try:
            value = yaml.safe_load(value)
        except yaml.YAMLError as error:
            # Where the broken construct starts, else where the parser gave up.
            mark = getattr(error, "context_mark", None) or getattr(error, "problem_mark", None)
            where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "somewhere"
            problem = " ".join(
                part for part in (getattr(error, "context", None), getattr(error, "problem", None)) if part
            ) or "invalid YAML"
            raise ValueError(
                f"does not parse as YAML ({where}: {problem}): give a YAML list of applications, "
                "each with name and import_path"
            ) from error
    if not isinstance(value, list):
        raise ValueError("must be a list of applications")
    return value


def check_inventory(inventory) -> list[str]:
    """Everything wrong with the inventory, as lines for the operator."""
    hosts = list(inventory)
    heads = [h.name for h in inventory.get_group(HEAD_GROUP, [])]
    workers = [h.name for h in inventory.get_group(WORKER_GROUP, [])]
    problems = []
    if not heads:
        problems.append(f"no host in group {HEAD_GROUP}: put exactly one host there")
    elif len(heads) > 1:
        problems.append(
            f"{len(heads)} hosts in group {HEAD_GROUP} ({', '.join(heads)}): "
            "exactly one host runs the Ray head"
        )
    gpu_only = [h.name for h in inventory.get_group(GPU_GROUP, []) if h.name not in set(heads) | set(workers)]
    for name in gpu_only:
        problems.append(
            f"host {name} is in group gpu but in neither {HEAD_GROUP} nor {WORKER_GROUP}: "
            f"add it to {WORKER_GROUP} (or {HEAD_GROUP}); gpu only marks hosts with NVIDIA GPUs"
        )
    for name in sorted(set(heads) & set(workers)):
        problems.append(
            f"host {name} is in both {HEAD_GROUP} and {WORKER_GROUP}: "
            "one Ray node per host; keep it in one group"
        )

    addresses: dict[str, str] = {}
    versions: dict[str, str] = {}
    for host in hosts:
        data = host.data.dict()
        if isinstance(data.get("serve_applications"), str):
            try:
                host.data.serve_applications = parse_serve_applications(data["serve_applications"])
            except ValueError as error:
                problems.append(f"host {host.name}: serve_applications {error}")
                continue
            data = host.data.dict()
        key_problems = check_keys(host.name, data)
        problems += key_problems
        if key_problems:
            continue
        settings = settings_for(host)
        role = "head" if host.name in heads else "worker"
        problems += check_values(host.name, role, settings)
        if not is_gpu_host(host):
            problems += check_cpu_image(host.name, settings)
        address = node_address(host)
        if address in addresses:
            key = "ray_node_ip" if host.data.get("ray_node_ip") else "ssh_hostname"
            problems.append(
                f"hosts {addresses[address]} and {host.name} have the same address {address} "
                f"({key}): each host must appear once"
            )
        addresses.setdefault(address, host.name)
        versions[host.name] = settings["ray_version"]

    if len(set(versions.values())) > 1:
        listed = ", ".join(f"{name}={version}" for name, version in sorted(versions.items()))
        problems.append(
            f"ray_version differs between hosts ({listed}): "
            "a Ray cluster runs one version; set it once in group_data/all.py"
        )
    return [f"{inventory_name()}: {problem}" for problem in problems]
