"""What a rollout ships, as a digest that is the same in staging and prod, and
the record a green staging rollout leaves for prod's promotion gate.

The digest covers what a release is (images, Ray version, env, Serve config,
the shipped health app), not where it runs (hosts, addresses).
"""

import hashlib
import json
import time
from pathlib import Path

from seedcore.gpu import gpu_image
from seedcore.render import health_app_source
from seedcore.topology import is_gpu_host, role_of, settings_for

RELEASE_KEYS = (
    "ray_version",
    "ray_env",
    "ray_notes_env",
    "ray_asyncio_debug",
    "ray_start_extra_args",
    "ray_object_store_memory_mb",
    "ray_metrics_export_port",
    "ray_dashboard_metrics_port",
    "serve_http_port",
    "serve_proxy_location",
    "serve_proxy_ready_check_timeout_s",
    "serve_proxy_health_check_timeout_s",
    "serve_proxy_health_check_period_s",
    "serve_health_route",
    "serve_applications",
)

REPOSITORY = Path(__file__).resolve().parents[1]


def release_of(host) -> dict:
    settings = settings_for(host)
    image = gpu_image(settings) if is_gpu_host(host) else settings["ray_image"]
    return {
        "role": role_of(host),
        "image": image,
        **{key: settings[key] for key in RELEASE_KEYS},
    }


def release_digest(inventory) -> tuple[str, list[dict]]:
    """(digest, the distinct releases it covers) over every host of the inventory."""
    distinct = sorted({json.dumps(release_of(h), sort_keys=True) for h in inventory})
    material = json.dumps({"hosts": distinct, "app": health_app_source()}, sort_keys=True)
    return hashlib.sha256(material.encode()).hexdigest()[:20], [json.loads(r) for r in distinct]


def record_dir(settings: dict) -> Path:
    path = Path(settings["rollout_record_dir"])
    return path if path.is_absolute() else REPOSITORY / path


def record_path(settings: dict, digest: str) -> Path:
    return record_dir(settings) / f"{digest}.json"


def write_record(settings: dict, digest: str, releases: list[dict], inventory_name: str) -> Path:
    path = record_path(settings, digest)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "digest": digest,
        "verified_on": inventory_name,
        "verified_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "releases": releases,
    }
    path.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    return path


def gate_problem(settings: dict, digest: str) -> str | None:
    """Why a prod rollout must not go ahead, or None."""
    if settings["rollout_stage"] != "prod" or settings["rollout_allow_unverified"]:
        return None
    path = record_path(settings, digest)
    if path.exists():
        return None
    return (
        f"release {digest} has not been verified by a staging rollout (no {path}): "
        "run `pyinfra inventories/staging.py deploy/rollout.py` first and commit its record, "
        "or pass --data rollout_allow_unverified=true to override for this run"
    )
