"""Where a run's time went, per phase, for the benchmark and for operators.

With SEEDCORE_TIMINGS=<path> set, a run writes (when it disconnects from its
hosts) JSON: {"connect_s": s, "total_s": s, "phases": {phase: s},
"operations": [[name, s], ...], "fact_misses": {host: [fact, ...]}}.
`fact_misses` names the facts an operation read on its own, outside the
host's bundled read (each one SSH round trip). `connect_s` is the time from the start of
the process to the deploy file's first line (config, inventory, SSH
connections); "preflight" is preflight's own time and "plan" the rest of
loading the deploy file for every host; each operation counts for the phase
of its deploy (PHASES), from its start to its end on every host.
"""

import json
import os
import time
from pathlib import Path

from pyinfra.api.state import BaseStateCallback

from seedcore.run_context import run_of

ENV = "SEEDCORE_TIMINGS"

# The @deploy name an operation belongs to -> its phase.
PHASES = {
    "Install and configure Docker": "docker",
    "Install the NVIDIA container runtime": "docker",
    "Install the GCS store (Redis)": "docker",
    "Render the compose files and env": "files",
    "Pull the Ray image": "pull",
    "Archive what is about to be removed": "stop_start",
    "Stop, clean and start the Ray node": "stop_start",
    "Restart the head alone": "stop_start",
    "Roll one batch of workers": "stop_start",
    "Deploy the Serve applications": "serve",
    "Verify the cluster": "verify",
    "Record the verified release": "verify",
}
PHASE_ORDER = ("preflight", "plan", "docker", "files", "pull", "stop_start", "serve", "verify", "other")


def phase_of(op_name: str) -> str:
    """The phase of an operation named "Deploy name | Operation name" (or "other")."""
    deploy_name, separator, _ = op_name.partition(" | ")
    return PHASES.get(deploy_name, "other") if separator else "other"


def process_started() -> float:
    """When this process started, on the time.time() clock (now, where /proc cannot say)."""
    try:
        ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return time.time()
    return time.time() - uptime + ticks / os.sysconf("SC_CLK_TCK")


def summary(connect_s: float, total_s: float, preflight_s: float, plan_s: float,
            operations: list[tuple[str, float]]) -> dict:
    phases = dict.fromkeys(PHASE_ORDER, 0.0)
    phases["preflight"] = preflight_s
    phases["plan"] = plan_s
    for name, seconds in operations:
        phases[phase_of(name)] += seconds
    return {
        "connect_s": round(connect_s, 3),
        "total_s": round(total_s, 3),
        "phases": {phase: round(seconds, 3) for phase, seconds in phases.items()},
        "operations": [[name, round(seconds, 3)] for name, seconds in operations],
    }


class RunTimings(BaseStateCallback):
    """pyinfra callbacks timing each operation; `write` saves the summary."""

    def __init__(self, path: str, started: float | None = None, now=time.time):
        self.path = path
        self.now = now
        self.started = process_started() if started is None else started
        self.loading = now()
        self.preflight_s = 0.0
        self.first_op: float | None = None
        self.op_started: dict[str, float] = {}
        self.operations: list[tuple[str, float]] = []

    def operation_start(self, state, op_hash):
        now = self.now()
        if self.first_op is None:
            self.first_op = now
        self.op_started[op_hash] = now

    def operation_end(self, state, op_hash):
        begun = self.op_started.pop(op_hash, None)
        if begun is not None:
            names = state.get_op_meta(op_hash).names
            self.operations.append((", ".join(sorted(names)) or op_hash, self.now() - begun))

    def host_disconnect(self, state, host):
        # pyinfra disconnects every host at the end of every run: the last one writes the whole run.
        self.write(run_of(state).fact_misses)

    def write(self, fact_misses: dict | None = None) -> dict:
        now = self.now()
        loaded = self.first_op if self.first_op is not None else now
        data = summary(self.loading - self.started, now - self.started, self.preflight_s,
                       max(0.0, loaded - self.loading - self.preflight_s), self.operations)
        data["fact_misses"] = {name: list(keys) for name, keys in sorted((fact_misses or {}).items())}
        Path(self.path).write_text(json.dumps(data, indent=2) + "\n")
        return data


def time_run(state) -> RunTimings | None:
    """The run's timings, registered on the first call when SEEDCORE_TIMINGS is set."""
    run = run_of(state)
    if run.timings is not None or not os.environ.get(ENV):
        return run.timings
    timings = run.timings = RunTimings(os.environ[ENV])
    state.add_callback_handler(timings)
    return timings


def add_preflight_time(state, seconds: float) -> None:
    timings = run_of(state).timings
    if timings is not None:
        timings.preflight_s += seconds
