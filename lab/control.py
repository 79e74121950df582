"""What the e2e tests and the benchmark need from the lab and from the deploy: run pyinfra,
reach hosts over SSH, read the lab's state. Kept free of assertions."""

import json
import os
import re
import subprocess
import sys
import textwrap
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import paramiko

from lab import state as lab_state
from seedcore.reach import over_ssh

REPO = Path(__file__).resolve().parents[1]
PYINFRA = str(Path(sys.executable).with_name("pyinfra"))


def load_state() -> dict:
    return lab_state.load()


@dataclass
class Run:
    args: list[str]
    returncode: int
    output: str


def pyinfra(*args: str, timeout: int = 1500, env: dict | None = None) -> Run:
    """Run the real pyinfra CLI from the repository root; output is kept."""
    # -y skips change detection, which --dry exists to show.
    command = [PYINFRA, *args] if "--dry" in args else [PYINFRA, "-y", *args]
    merged = {**os.environ, **(env or {})}
    completed = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=timeout, env=merged
    )
    output = completed.stdout + completed.stderr
    log_dir = REPO / "reports" / "e2e"
    log_dir.mkdir(parents=True, exist_ok=True)
    (log_dir / "last-pyinfra.log").write_text(" ".join(command) + "\n" + output)
    return Run(command, completed.returncode, output)


def lab(*args: str, timeout: int = 1800) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "lab", *args], cwd=REPO, capture_output=True, text=True,
        timeout=timeout,
    )


def write_inventory(name: str, body: str) -> str:
    """An inventory derived from the lab's, for one test; returns its path.

    Its groups come in the order inventories/lab.py defines them: pyinfra
    orders hosts (and so rollout batches) by the group that first names them."""
    directory = REPO / "reports" / "e2e" / "inventories"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.py"
    prelude = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(REPO)!r})
        from inventories.lab import ray_head, ray_workers  # noqa: E402
        from inventories.lab import monitoring  # noqa: E402,F401
        """
    )
    # Hosts stay in group `lab`, so group_data/lab.py applies as it does to inventories/lab.py.
    path.write_text(prelude + textwrap.dedent(body)
                    + "\nlab = ray_head + ray_workers + globals().get('ray_gcs_store', [])\n")
    return str(path)


def _client(state: dict, address: str, user: str, sock=None) -> paramiko.SSHClient:
    client = paramiko.SSHClient()
    client.load_host_keys(state["known_hosts"])
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    client.connect(address, username=user, key_filename=state["ssh_key"], look_for_keys=False,
                   allow_agent=False, timeout=15, banner_timeout=15, auth_timeout=15, sock=sock)
    return client


class Ssh:
    """SSH to a lab host as its non-root user, host keys checked; on a bastion
    lab through the bastion, as its own user (this machine cannot reach the host)."""

    def __init__(self, state: dict, host: dict):
        self.jump, sock = None, None
        if state.get("bastion"):
            jump = state["bastion"]
            self.jump = _client(state, jump["ip"], jump["user"])
            sock = self.jump.get_transport().open_channel(
                "direct-tcpip", (host["ip"], 22), ("127.0.0.1", 0), timeout=15)
        self.client = _client(state, host["ip"], state["ssh_user"], sock)

    def run(self, command: str, timeout: int = 120, stdin: str | None = None) -> tuple[int, str]:
        """`command`'s exit status and output; `stdin`, when given, is its input (so a
        secret it reads stays off the command line)."""
        given, stdout, stderr = self.client.exec_command(command, timeout=timeout)
        if stdin is not None:
            given.write(stdin)
            given.channel.shutdown_write()
        out = stdout.read().decode() + stderr.read().decode()
        return stdout.channel.recv_exit_status(), out

    def close(self):
        self.client.close()
        if self.jump is not None:
            self.jump.close()


@contextmanager
def reach_from(state: dict, host: dict):
    """A deploy.reach.Reach whose connections start on `host` (through SSH to it),
    for endpoints the firewall keeps to the cluster."""
    ssh = Ssh(state, host)
    try:
        yield over_ssh(host["name"], lambda: ssh.client)
    finally:
        ssh.close()


def run_on(state: dict, host: dict, command: str, timeout: int = 120,
           stdin: str | None = None) -> tuple[int, str]:
    ssh = Ssh(state, host)
    try:
        return ssh.run(command, timeout=timeout, stdin=stdin)
    finally:
        ssh.close()


def started_at(state: dict, host: dict) -> dict[str, str]:
    """name -> StartedAt of every container the deploy owns on the host."""
    code, out = run_on(
        state, host,
        "sudo docker ps -aq --filter label=io.seedcore.managed-by=seedcore-deploy "
        "| xargs -r sudo docker inspect -f '{{.Name}} {{.State.StartedAt}}'",
    )
    pairs = [line.split() for line in out.splitlines() if line.strip()]
    return {name.lstrip("/"): when for name, when in pairs}


def change_rows(output: str) -> list[tuple[str, str, str]]:
    """pyinfra's "Detected changes" table as (operation, change, conditional
    change) cells, e.g. ("Install ...", "2 (a, b)", "-"); [] without a table."""
    lines = output.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if "--> Detected changes:" in line)
    except StopIteration:
        return []
    rows = []
    # The header line follows the title; the table ends at the first blank line.
    for line in lines[start + 2:]:
        if not line.strip():
            break
        operation, change, conditional = (re.split(r"\s{2,}", line.strip()) + ["-", "-"])[:3]
        rows.append((operation, change, conditional))
    return rows


def changed_operations(dry_output: str, conditional: bool = False) -> list[str]:
    """Operation names that `pyinfra --dry` lists with a change on some host
    (or, with `conditional`, with a change or a conditional change)."""
    return [operation for operation, change, maybe in change_rows(dry_output)
            if change != "-" or (conditional and maybe != "-")]


def record_figure(name: str, value) -> None:
    """Keep a measured figure in reports/e2e/figures.json (read by people, not asserted)."""
    path = REPO / "reports" / "e2e" / "figures.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    figures = json.loads(path.read_text()) if path.exists() else {}
    figures[name] = value
    path.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
