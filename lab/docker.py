"""The one place that runs the `docker` CLI, with one-line errors."""

import json
import os
import shutil
import subprocess

from lab.config import LABEL_FILTERS, OWN_LABELS
from lab.errors import LabError

ENGINE_HINT = "run scripts/ensure-docker.sh"


def binary() -> str:
    binary = os.environ.get("SEEDCORE_LAB_DOCKER") or shutil.which("docker")
    if not binary:
        raise LabError(f"the docker CLI is not installed: {ENGINE_HINT}")
    return binary


def _last_line(text: str) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def run(
    *args: str,
    input: str | bytes | None = None,
    check: bool = True,
    timeout: float | None = 300,
    env: dict | None = None,
    text: bool = True,
) -> subprocess.CompletedProcess:
    """`docker ARGS...`; output captured. A failure raises LabError with docker's last line."""
    command = [binary(), *args]
    try:
        result = subprocess.run(
            command,
            input=input,
            capture_output=True,
            text=text,
            timeout=timeout,
            env={**os.environ, **(env or {})},
        )
    except OSError as error:
        raise LabError(f"cannot run {command[0]}: {error.strerror}: {ENGINE_HINT}") from error
    except subprocess.TimeoutExpired as error:
        raise LabError(f"`docker {' '.join(args[:3])}` did not finish within {timeout:.0f} s") from error
    if check and result.returncode != 0:
        stderr = result.stderr if text else result.stderr.decode(errors="replace")
        raise LabError(f"`docker {' '.join(args[:3])}` failed: {_last_line(stderr)}")
    return result


def ping() -> None:
    """Fail with one line unless the engine answers."""
    result = run("version", "--format", "{{.Server.Version}}", check=False, timeout=20)
    if result.returncode != 0 or not result.stdout.strip():
        raise LabError(f"docker engine not answering: {ENGINE_HINT}")


def inspect(kind: str, name: str) -> dict | None:
    """`docker KIND inspect NAME` as a dict, or None when there is no such object."""
    result = run(kind, "inspect", name, check=False, timeout=30)
    if result.returncode != 0:
        return None
    found = json.loads(result.stdout or "[]")
    return found[0] if found else None


def label_args() -> list[str]:
    """`--label` arguments that mark an object as this lab's."""
    return [arg for label in OWN_LABELS for arg in ("--label", label)]


def labels_of(obj: dict | None) -> dict:
    """The labels of an inspected container, image, volume or network."""
    if not obj:
        return {}
    config = obj.get("Config") or {}
    return config.get("Labels") or obj.get("Labels") or {}


def lab_objects(kind: str, extra_filters: tuple[str, ...] = ()) -> list[str]:
    """Names of the lab's containers, volumes or networks (found by the lab label)."""
    args = [kind, "ls", "--format", "{{.Name}}"]
    if kind == "container":
        args = ["container", "ls", "--all", "--format", "{{.Names}}"]
    for extra in (*LABEL_FILTERS, *extra_filters):
        args += ["--filter", extra]
    result = run(*args, timeout=30)
    return sorted(line.strip() for line in result.stdout.splitlines() if line.strip())


def exec_in(
    container: str, command: str, input: str | None = None, timeout: float = 120, check: bool = False
) -> subprocess.CompletedProcess:
    """Run a shell command inside a running container, as root."""
    args = (
        ["exec", "-i", container, "sh", "-c", command]
        if input is not None
        else ["exec", container, "sh", "-c", command]
    )
    return run(*args, input=input, check=check, timeout=timeout)
