"""A stand-in for the lab's registry, for the fault tests: while the registry is
stopped, a container at its address (the one every host lists under
insecure-registries, so no host's daemon.json changes) that answers Docker's
ping (`GET /v2/`) and never answers anything else. A pull then connects, is told
a registry is there, and waits on its manifest for ever: the hang a registry
behind a stuck proxy gives. (A listener that answers nothing at all is given
up by Docker itself: its ping times out after about 25 s, measured on the lab.)
"""

import subprocess
import time
from contextlib import contextmanager

from lab import docker, registry
from lab.config import LAB_NAME, NETWORK, REGISTRY_NAME, REGISTRY_PORT, ROLE_LABEL, registry_ip

NAME = f"{LAB_NAME}-silent-registry"

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
