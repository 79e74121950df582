"""`python -m lab versions`: per host, its Debian release, where its Docker came
from, and the Docker and Compose versions it answers with (over SSH)."""

import subprocess
from concurrent.futures import ThreadPoolExecutor

from lab import ssh, state

# Compose v2 (`docker compose`, Debian 13) or v1 (`docker-compose`, Debian 12).
PROBE = (
    "docker_version=$(sudo -n docker version --format '{{.Server.Version}}' 2>/dev/null || echo none); "
    "compose=$(sudo -n docker compose version --short 2>/dev/null "
    "|| docker-compose version --short 2>/dev/null || echo none); "
    'echo "$docker_version $compose"'
)


def parse(output: str) -> tuple[str, str]:
    """(docker, compose) from PROBE's one line; ("?", "?") when it did not answer."""
    words = output.split()
    return (words[0], words[1]) if len(words) == 2 else ("?", "?")


def rows() -> list[dict]:
    current = state.require_up()

    def probe(host: dict) -> dict:
        try:
            done = subprocess.run(ssh.command(host["ip"], PROBE), capture_output=True, text=True, timeout=30)
            docker, compose = parse(done.stdout) if done.returncode == 0 else ("?", "?")
        except subprocess.TimeoutExpired:
            docker, compose = "?", "?"
        return {
            "name": host["name"],
            "role": host["role"],
            "distro": host.get("distro", "?"),
            "install_source": host.get("install_source", "?"),
            "docker": docker,
            "compose": compose,
        }

    with ThreadPoolExecutor(max_workers=len(current["hosts"])) as pool:
        return list(pool.map(probe, current["hosts"]))
