"""Stand-ins for the lab's registry, for the fault tests: while the registry is
stopped, a container at its address (the one every host lists under
insecure-registries, so no host's daemon.json changes).

`silent`: a listener that answers Docker's ping (`GET /v2/`) and never answers
anything else. A pull then connects, is told
a registry is there, and waits on its manifest for ever: the hang a registry
behind a stuck proxy gives. (A listener that answers nothing at all is given
up by Docker itself: its ping times out after about 25 s, measured on the lab.)
"""

import base64
import os
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import bcrypt

from lab import docker, registry
from lab.config import (
    LAB_NAME,
    NETWORK,
    REGISTRY_NAME,
    REGISTRY_PORT,
    REGISTRY_VOLUME,
    ROLE_LABEL,
    registry_ip,
)
from lab.errors import LabError

NAME = f"{LAB_NAME}-silent-registry"
AUTH_NAME = f"{LAB_NAME}-auth-registry"

# Run by the lab's Ray image's python: TLS hellos are closed at once (so Docker falls
# back to plain HTTP without waiting), the ping is answered, every other request is
# read and held open unanswered.
LISTENER = f"""
import socket, threading
PING = (b"HTTP/1.1 200 OK\\r\\nContent-Type: application/json\\r\\n"
        b"Docker-Distribution-Api-Version: registry/2.0\\r\\nContent-Length: 2\\r\\n\\r\\n{{}}")
held = []
def serve(conn):
    data = b""
    while True:
        chunk = conn.recv(65536)
        if not chunk or data[:1] == b"\\x16" or chunk[:1] == b"\\x16":
            conn.close()
            return
        data += chunk
        while b"\\r\\n\\r\\n" in data:
            request, _, data = data.partition(b"\\r\\n\\r\\n")
            if request.split(b" ")[1:2] != [b"/v2/"]:
                held.append(conn)
                return
            conn.sendall(PING)
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("0.0.0.0", {REGISTRY_PORT}))
server.listen(64)
while True:
    threading.Thread(target=serve, args=(server.accept()[0],), daemon=True).start()
"""


@contextmanager
def silent(state: dict):
    """The registry stopped and the stand-in at its address; both put back after."""
    image = state["ray_image"].replace(state["registry"]["address"], registry.push_address(), 1)
    docker.run("pull", image, timeout=600)
    subprocess.run(["docker", "stop", REGISTRY_NAME], check=True, capture_output=True, timeout=120)
    try:
        docker.run("run", "--detach", "--rm", "--name", NAME, *docker.label_args(),
                   "--label", f"{ROLE_LABEL}=silent-registry", "--network", NETWORK, "--ip", registry_ip(),
                   "--entrypoint", "python", image, "-c", LISTENER)
        time.sleep(1)
        yield f"{registry_ip()}:{REGISTRY_PORT}"
    finally:
        docker.run("container", "rm", "--force", NAME, check=False)
        subprocess.run(["docker", "start", REGISTRY_NAME], check=True, capture_output=True, timeout=120)
        registry.wait_ready()


def add_tag(state: dict, tag: str) -> str:
    """Push the lab's Ray image under another tag of its repository (only a new
    manifest: the layers are there already); returns the hosts' reference to it."""
    pushed_from = state["ray_image"].replace(state["registry"]["address"], registry.push_address(), 1)
    repository = pushed_from.rsplit(":", 1)[0]
    docker.run("pull", pushed_from, timeout=600)
    docker.run("tag", pushed_from, f"{repository}:{tag}")
    try:
        docker.run("push", f"{repository}:{tag}", timeout=600)
    finally:
        docker.run("image", "rm", f"{repository}:{tag}", check=False)
    return f"{state['registry']['address']}/{repository.split('/', 1)[1]}:{tag}"


def status_as(user: str | None = None, password: str | None = None) -> int:
    """The HTTP status of the registry's ping (`GET /v2/`) through the push port, with
    basic auth when a user is given (0: no answer)."""
    headers = {}
    if user is not None:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    return registry.http_status("/v2/", headers=headers)


class AuthRegistry:
    """The lab registry's own image, storage and address, with basic auth (htpasswd,
    bcrypt) over plain HTTP: Distribution 2.8 accepts that, and Docker sends the
    credentials of `docker login` to a registry listed under insecure-registries."""

    def __init__(self, directory: Path):
        self.htpasswd = directory / "htpasswd"

    def set_password(self, user: str, password: str) -> None:
        """Only `user` with `password` is accepted from now on (the registry reads its
        htpasswd when it starts, so it is restarted)."""
        digest = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=6)).decode()
        self.htpasswd.write_text(f"{user}:{digest}\n")
        self.htpasswd.chmod(0o644)
        docker.run("restart", AUTH_NAME, timeout=120)
        _wait_for_status(401)


def _wait_for_status(status: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while (seen := status_as()) != status:
        if time.monotonic() > deadline:
            raise LabError(f"the registry stand-in at http://{registry.push_address()}/v2/ answered {seen}, "
                           f"not {status}, within {timeout:.0f} s")
        time.sleep(0.3)


@contextmanager
def with_auth(user: str, password: str):
    """The registry stopped and the stand-in with auth at its address and on its push
    port, serving the same storage, accepting only `user` with `password`; the
    registry put back after."""
    current = docker.inspect("container", REGISTRY_NAME)
    if current is None:
        raise LabError(f"the lab registry {REGISTRY_NAME} is not there: python -m lab up")
    image = current["Config"]["Image"]
    directory = Path(tempfile.mkdtemp(prefix="seedcore-lab-htpasswd-"))
    os.chmod(directory, 0o755)
    stand_in = AuthRegistry(directory)
    stand_in.htpasswd.write_text("")
    subprocess.run(["docker", "stop", REGISTRY_NAME], check=True, capture_output=True, timeout=120)
    try:
        docker.run("run", "--detach", "--name", AUTH_NAME, *docker.label_args(),
                   "--label", f"{ROLE_LABEL}=auth-registry", "--network", NETWORK, "--ip", registry_ip(),
                   "--publish", f"{registry.push_address()}:{REGISTRY_PORT}",
                   "--volume", f"{REGISTRY_VOLUME}:/var/lib/docker-registry",
                   "--volume", f"{directory}:/auth:ro",
                   "--env", "REGISTRY_AUTH_HTPASSWD_REALM=seedcore-lab",
                   "--env", "REGISTRY_AUTH_HTPASSWD_PATH=/auth/htpasswd", image)
        stand_in.set_password(user, password)
        yield stand_in
    finally:
        docker.run("container", "rm", "--force", AUTH_NAME, check=False)
        subprocess.run(["docker", "start", REGISTRY_NAME], check=True, capture_output=True, timeout=120)
        registry.wait_ready()
        for path in directory.iterdir():
            path.unlink()
        directory.rmdir()
