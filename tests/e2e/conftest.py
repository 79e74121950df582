"""One lab and one converged cluster, shared by every end-to-end test.

The lab is brought up fresh (bare hosts), `--dry` is recorded against the
bare hosts, then the real deploy runs once. A lab that cannot start fails
the tests with its own message; it is never a silent skip.
"""

import time

import pytest

from lab import control as labctl

# One head and three workers: a rollout has a batch after the one that fails.
LAB_HOSTS = 4
# A mixed cluster: a Debian 12 head; workers of Debian 13 and 12. Debian 12 hosts
# install Docker from their own archive (Docker 20.10, Compose v1), Debian 13
# hosts from the lab's signed apt mirror (Docker 26, Compose v2).
LAB_DISTROS = "bookworm,trixie,bookworm,trixie"


def _tail(text: str, lines: int = 60) -> str:
    return "\n".join(text.splitlines()[-lines:])


@pytest.fixture(scope="session")
def lab_state():
    result = labctl.lab("up", "--fresh", "--hosts", str(LAB_HOSTS), "--distros", LAB_DISTROS)
    if result.returncode != 0:
        pytest.fail(
            f"the lab could not start (python -m lab up --fresh --distros {LAB_DISTROS}):\n"
            + _tail(result.stdout + result.stderr),
            pytrace=False,
        )
    return labctl.load_state()


@pytest.fixture(scope="session")
def bare_dry_run(lab_state):
    """`--dry` against bare hosts, before anything is installed."""
    return labctl.pyinfra("--dry", "inventories/lab.py", "deploy/cluster.py")


@pytest.fixture(scope="session")
def bare_refused_run(lab_state):
    """A real run (-y) on the bare hosts that preflight refuses (more room asked for the
    archives than any host has): it must leave every host as it was, the head's lock included.
    Returns the run and what each host holds under /opt afterwards, read before any converge."""
    run = labctl.pyinfra("inventories/lab.py", "deploy/cluster.py", "--data", "ray_archive_max_mb=1000000")
    left = {host["name"]: labctl.run_on(lab_state, host, "sudo ls -A /opt")[1].split()
            for host in lab_state["hosts"]}
    return run, left


@pytest.fixture(scope="session")
def converged(lab_state, bare_dry_run, bare_refused_run):
    """The first real deploy onto the bare lab."""
    started = time.monotonic()
    run = labctl.pyinfra("inventories/lab.py", "deploy/cluster.py")
    if run.returncode != 0:
        pytest.fail("the deploy onto the bare lab failed:\n" + _tail(run.output, 120), pytrace=False)
    labctl.record_figure(f"converge_{LAB_HOSTS}_bare_hosts_s", round(time.monotonic() - started, 1))
    return run


@pytest.fixture(scope="session")
def head(lab_state):
    return next(h for h in lab_state["hosts"] if h["role"] == "head")


@pytest.fixture(scope="session")
def workers(lab_state):
    return [h for h in lab_state["hosts"] if h["role"] == "worker"]
