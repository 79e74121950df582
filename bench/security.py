"""The measurements of the security scenario (bench/scenarios.py `security`):
a round trip of tiny Ray tasks from a driver on the head, how many Ray
containers run with TLS, and every way in tried from the outsider (a
container on the lab network in no inventory)."""

import base64
import re

from lab import control as labctl
from lab import outsider as lab_outsider
from lab.config import REPO
from lab.inventory import web_password
from seedcore.defaults import ALL_DEFAULTS

# Tiny tasks timed from a driver inside the head's container: after a warm-up
# (workers started, functions exported), ROUNDS rounds of TASKS; the median round.
TASKS = 1000
WARM_UP = 500
ROUNDS = 5
HEAD_CONTAINER = ALL_DEFAULTS["ray_head_container"]
WORKER_CONTAINER = ALL_DEFAULTS["ray_worker_container"]
DRIVER = f"""
import time
import ray

ray.init(address="auto", logging_level="ERROR")


@ray.remote
def tiny(i):
    return i


ray.get([tiny.remote(i) for i in range({WARM_UP})])
rates = []
for _ in range({ROUNDS}):
    started = time.monotonic()
    assert sum(ray.get([tiny.remote(i) for i in range({TASKS})])) == {TASKS * (TASKS - 1) // 2}
    rates.append({TASKS} / (time.monotonic() - started))
print("TASKS_PER_S", sorted(rates)[len(rates) // 2])
"""
DRIVER_TIMEOUT_S = 300
# The lab's cluster CA (group_data/lab.py's tls_dir): the doors' certificates are its.
LAB_CA = REPO / ".lab" / "tls" / "ca.crt"
MODES = (("plain", False), ("tls", True))


def mode_inventory(tls: bool) -> str:
    """The bench's inventory (no monitoring) with mutual TLS on or off on every node."""
    return labctl.write_inventory(f"bench_security_{'tls' if tls else 'plain'}", f"""
        monitoring = []
        for _name, data in ray_head + ray_workers:
            data["tls_enabled"] = {tls!r}
        """)


def driver_command(container: str = HEAD_CONTAINER) -> str:
    """Runs DRIVER inside `container` (fed on stdin, bounded by a timeout)."""
    encoded = base64.b64encode(DRIVER.encode()).decode()
    return (f"echo {encoded} | base64 -d | "
            f"sudo timeout {DRIVER_TIMEOUT_S} docker exec -i {container} python -")


def parse_tasks_per_s(output: str) -> float:
    match = re.search(r"^TASKS_PER_S ([\d.]+)$", output, re.MULTILINE)
    if not match:
        raise RuntimeError(f"the driver printed no TASKS_PER_S:\n{output[-2000:]}")
    return float(match.group(1))


def tasks_per_s(state: dict) -> float:
    head = next(host for host in state["hosts"] if host["role"] == "head")
    code, out = labctl.run_on(state, head, driver_command(), timeout=DRIVER_TIMEOUT_S + 30)
    if code != 0:
        raise RuntimeError(f"the task driver on {head['name']} failed ({code}):\n{out[-2000:]}")
    return parse_tasks_per_s(out)


def tls_nodes(state: dict) -> int:
    """How many of the lab's Ray containers run with RAY_USE_TLS=1."""
    count = 0
    for host in state["hosts"]:
        container = HEAD_CONTAINER if host["role"] == "head" else WORKER_CONTAINER
        code, out = labctl.run_on(state, host, f"sudo docker exec {container} printenv RAY_USE_TLS")
        count += code == 0 and out.strip() == "1"
    return count


def outsider_figures(state: dict) -> dict:
    """Every way in tried from the outsider: {ways_tried, outsider_reached, controls_failed}
    (controls: SSH answers, the doors let the right password in)."""
    lab_outsider.ensure(state)
    doors = {"ca": LAB_CA.read_text(), "user": ALL_DEFAULTS["web_user"], "right": web_password(),
             "wrong": "not-the-door-password"}
    ask = lab_outsider.ways_in(state, dict(ALL_DEFAULTS), doors)
    result = lab_outsider.probe(ask)
    tried = [f"tcp {ip}:{port}" for ip, port in ask["tcp"] if f"{ip}:{port}" not in ask["controls"]]
    tried += [f"jobs api {ask['jobs']}", f"ray client {ask['client']}"]
    tried += [f"door {url} with {how} password" for url in ask["doors"]["urls"] for how in ("no", "a wrong")]
    return {"ways_tried": tried, "outsider_reached": lab_outsider.reached(result, ask["controls"]),
            "controls_failed": [*lab_outsider.closed_controls(result, ask["controls"]),
                                *lab_outsider.doors_refused(result)]}
