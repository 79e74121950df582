"""The lab's image registry: hosts pull from it over plain HTTP on the lab
network; the outer engine pushes to it through a loopback-only port."""

import time
import urllib.error
import urllib.request

from lab import docker, log
from lab.config import (
    LABEL,
    NETWORK,
    RAY_REPOSITORY,
    RAY_VERSION,
    REGISTRY_NAME,
    REGISTRY_PORT,
    REGISTRY_PUSH_PORT,
    REGISTRY_VOLUME,
    registry_ip,
)
from lab.errors import LabError

MANIFEST_TYPES = ", ".join(
    [
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
    ]
)


def address() -> str:
    """Where lab hosts pull from (plain HTTP, on the lab network)."""
    return f"{registry_ip()}:{REGISTRY_PORT}"


def push_address() -> str:
    """Where the outer engine pushes to (loopback, so no TLS is needed)."""
    return f"127.0.0.1:{REGISTRY_PUSH_PORT}"


def ray_tag(ray_image: str) -> str:
    """`2.20.0-<hash>`: the Ray version and the lab image's content hash."""
    return f"{RAY_VERSION}-{ray_image.rsplit(':', 1)[1]}"


def ray_reference(ray_image: str, at: str | None = None) -> str:
    return f"{at or address()}/{RAY_REPOSITORY}:{ray_tag(ray_image)}"


def http_status(path: str, method: str = "GET", headers: dict | None = None) -> int:
    """The HTTP status of `path` on the registry's push port (0: no answer)."""
    request = urllib.request.Request(
        f"http://{push_address()}{path}", method=method, headers={"Accept": MANIFEST_TYPES, **(headers or {})}
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def ensure(image: str) -> None:
    """Run the registry container from `image`, keeping its storage volume."""
    current = docker.inspect("container", REGISTRY_NAME)
    if current is not None:
        if docker.labels_of(current).get(LABEL) != "1":
            raise LabError(f"a container named {REGISTRY_NAME} exists that the lab did not create")
        if current["State"]["Running"] and current["Config"]["Image"] == image:
            return
        docker.run("container", "rm", "--force", REGISTRY_NAME)
    if docker.inspect("volume", REGISTRY_VOLUME) is None:
        docker.run("volume", "create", *docker.label_args(), REGISTRY_VOLUME)
    log.step(f"starting registry {REGISTRY_NAME} at {address()} (push: {push_address()})")
    result = docker.run(
        "run",
        "--detach",
        "--name",
        REGISTRY_NAME,
        "--hostname",
        REGISTRY_NAME,
        *docker.label_args(),
        "--label",
        f"{LABEL}.role=registry",
        "--network",
        NETWORK,
        "--ip",
        registry_ip(),
        "--publish",
        f"{push_address()}:{REGISTRY_PORT}",
        "--volume",
        f"{REGISTRY_VOLUME}:/var/lib/docker-registry",
        "--restart",
        "unless-stopped",
        image,
        check=False,
    )
    if result.returncode != 0:
        docker.run("container", "rm", "--force", REGISTRY_NAME, check=False)
        if "address already in use" in result.stderr or "port is already allocated" in result.stderr:
            raise LabError(
                f"port {REGISTRY_PUSH_PORT} is taken: set SEEDCORE_LAB_REGISTRY_PORT to a free port"
            )
        raise LabError(f"starting the registry failed: {result.stderr.strip().splitlines()[-1]}")


def wait_ready(timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while http_status("/v2/") != 200:
        if time.monotonic() > deadline:
            raise LabError(f"the registry did not answer at http://{push_address()}/v2/ in {timeout:.0f} s")
        time.sleep(0.3)


def has(repository: str, tag: str) -> bool:
    return http_status(f"/v2/{repository}/manifests/{tag}", method="HEAD") == 200


def publish_ray(ray_image: str) -> str:
    """Push the lab's Ray image unless the registry has its tag; return the hosts' reference."""
    tag = ray_tag(ray_image)
    if not has(RAY_REPOSITORY, tag):
        pushed = ray_reference(ray_image, at=push_address())
        log.step(f"pushing {ray_image} as {pushed}")
        started = time.monotonic()
        docker.run("tag", ray_image, pushed)
        try:
            docker.run("push", pushed, timeout=900)
        finally:
            docker.run("image", "rm", pushed, check=False)
        log.info(f"pushed in {time.monotonic() - started:.0f} s")
    return ray_reference(ray_image)


def remove() -> None:
    """The registry container and its storage volume."""
    if docker.inspect("container", REGISTRY_NAME) is not None:
        docker.run("container", "rm", "--force", "--volumes", REGISTRY_NAME)
    if docker.inspect("volume", REGISTRY_VOLUME) is not None:
        docker.run("volume", "rm", REGISTRY_VOLUME)
