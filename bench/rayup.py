"""Side by side with Ray's own cluster launcher (`ray up`, local provider), on the lab.

`measure(state)` takes the lab's state (hosts up) and returns
{"ray_up": {...}, "ours": {...}} with the same keys in both:

- nodes_alive_s: from the start of the tool until the head's dashboard lists every
  node ALIVE (polled from the control machine, the same way for both);
- command_s: how long the tool itself ran (first run);
- noop_rerun_s: the tool again with nothing changed, until it returned and every
  node was ALIVE again;
- noop_containers_restarted / noop_ray_nodes_restarted: containers whose StartedAt
  changed, and Ray nodes whose node ID changed, across that re-run;
- serve_deployed: whether Serve's /health route answers on the head afterwards;
- checks_at_end: what the tool checked before it said it was done (short text);
- setup_by_bench: what the bench had to do on the hosts or the image for this tool
  (never hidden: it is part of the comparison).

Under "ray_up" only: noop_rerun_no_restart_s and noop_no_restart_ray_nodes_restarted
(`ray up --no-restart`, Ray's switch for a re-run that leaves Ray running; not its
default), and teardown_left_running (hosts whose Ray container `ray down` left running;
the bench removes them).

Both start from the same point: Docker installed and the image pulled by one run of
our deploy, then every Ray container removed. `ray up` gets the same image (plus the
two packages Ray's launcher needs inside it, see `rayup_image`), the same
`docker run` options and the same `ray start` options, all derived from what
seedcore/render.py renders for the lab inventory, never typed here.

Ray's CLI lives in its own virtual environment, bench/.venv-rayup, made here on first
use (a benchmark dependency, not a runtime one).
"""

import json
import runpy
import shlex
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests
import yaml
from pyinfra.api import Inventory

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.inventory import cluster_inventory  # noqa: E402
from lab import control as labctl  # noqa: E402
from lab.inventory import host_entry  # noqa: E402
from seedcore import checks, render  # noqa: E402
from seedcore.commands import ray_start_args, remove_labelled_containers  # noqa: E402
from seedcore.reach import FROM_CONTROL  # noqa: E402
from seedcore.topology import Node, node_for  # noqa: E402

VENV = REPO / "bench" / ".venv-rayup"
RAY_SPEC = "ray[default]==2.20.0"
INSTALL_RECORD = VENV / "seedcore-install-seconds"
WORK_DIR = REPO / "bench" / "out" / "rayup"
CLUSTER_NAME = "seedcore-rayup"
# One name for the Ray container on every node (Ray's yaml has one container_name).
CONTAINER = "seedcore-rayup"
# Where `ray up` writes the head's autoscaler config inside the container.
BOOTSTRAP_CONFIG = "~/ray_bootstrap_config.yaml"
# What Ray's launcher runs inside the container (rsync of its bootstrap files through
# `docker exec`) and on the head to reach the workers (ssh, rsync).
LAUNCHER_PACKAGES = ["rsync", "openssh-client"]
# Ray's launcher runs every command in a login shell (`bash --login`), whose
# /etc/profile resets PATH: the image's own PATH (ENV) is put back from profile.d.
PROFILE_PATH_FILE = "/etc/profile.d/seedcore-image-path.sh"
# Ray 2.20's local provider takes its two locks in opposite orders (ClusterState.get:
# thread lock then file lock; set_node_tags: file lock then thread lock). With filelock
# >= 3.11 (thread-local locks; the lab image resolves 4.x) the head's autoscaler
# deadlocks as soon as it starts two worker updaters, and no worker ever joins
# (seen here; ray-project/ray#49909, fixed after 2.20). Before 3.11 a FileLock was
# shared by the threads of a process, so the inversion could not block.
FILELOCK_PIN = "filelock==3.10.7"
IMAGE_REPOSITORY_SUFFIX = "-rayup"
LAB_GROUP_DATA = REPO / "group_data" / "lab.py"

INSTALL_TIMEOUT_S = 1200
RAY_UP_TIMEOUT_S = 900
RAY_DOWN_TIMEOUT_S = 300
DEPLOY_TIMEOUT_S = 1500
ALIVE_TIMEOUT_S = 300
POLL_S = 0.5


class RayUpError(RuntimeError):
    """A step of the side by side failed; the message says which and why."""


# --- Pure parts: the cluster yaml from the lab state and the rendered compose files ----


def lab_group_data(path: Path = LAB_GROUP_DATA) -> dict:
    """The `lab` group's data (group_data/lab.py), as pyinfra loads it for inventories/lab.py."""
    values = runpy.run_path(str(path))
    return {key: value for key, value in values.items() if not key.startswith("_")}


def lab_nodes(state: dict, group_data: dict) -> list[Node]:
    """The Ray nodes our deploy renders for the lab inventory: head first, then workers."""
    entries = [host_entry(state, entry) for entry in state["hosts"]]
    roles = [(name, entry["role"]) for (name, _), entry in zip(entries, state["hosts"], strict=True)]
    heads = [name for name, role in roles if role == "head"]
    workers = [name for name, role in roles if role == "worker"]
    if len(heads) != 1:
        raise RayUpError(f"the lab state lists {len(heads)} heads; the side by side needs exactly one")
    inventory = Inventory(
        (entries, {}),
        ray_head=(heads, {}),
        ray_workers=(workers, {}),
        lab=([name for name, _ in entries], dict(group_data)),
    )
    return [node_for(inventory.get_host(name), inventory) for name in heads + workers]


def rendered_service(node: Node) -> dict:
    """The compose service our deploy writes for this node (seedcore/render.py)."""
    return render.compose_service(node, "")


def env_file_values(node: Node) -> dict[str, str]:
    """KEY=VALUE lines of the env file our deploy writes for this node."""
    values = {}
    for line in render.env_file(node).splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key] = value
    return values


def docker_run_options(node: Node) -> list[str]:
    """`docker run` options matching the rendered compose service, as shell words.

    Ray adds `--net=host` itself and starts every container with `--rm`, so the
    service's restart policy has no equivalent (Docker refuses --restart with --rm);
    labels and the healthcheck are our deploy's own and are left out.
    """
    service = rendered_service(node)
    if service.get("network_mode") != "host":
        raise RayUpError(f"{node.name}: the rendered service is not on host networking")
    nofile = service["ulimits"]["nofile"]
    options = [
        f"--shm-size={service['shm_size']}",
        f"--ulimit nofile={int(nofile['soft'])}:{int(nofile['hard'])}",
    ]
    options += [f"-v {shlex.quote(volume)}" for volume in service.get("volumes", [])]
    environment = {**env_file_values(node), **render.container_environment(node)}
    options += [f"-e {shlex.quote(f'{key}={value}')}" for key, value in environment.items()]
    return options


def start_args(node: Node) -> list[str]:
    """The rendered `ray start` arguments, less --block: under `ray up` the container
    runs `bash` and `ray start` must return."""
    args = ray_start_args(node)
    if args[:2] != ["ray", "start"]:
        raise RayUpError(f"{node.name}: the rendered command is not a plain `ray start` ({args[0]} ...); "
                         "the side by side does not cover head fault tolerance")
    return [arg for arg in args if arg != "--block"]


def head_start_commands(head: Node) -> list[str]:
    """Ray's own head commands (`ray stop`, then `ray start --head ... --autoscaling-config`),
    with our rendered options; the config path keeps its `~` for the shell."""
    return ["ray stop", f"{shlex.join(start_args(head))} --autoscaling-config={BOOTSTRAP_CONFIG}"]


NODE_IP_OPTION = "--node-ip-address="


def worker_start_commands(workers: list[Node]) -> list[str]:
    """One command for every worker (Ray's yaml has one): the rendered options shared by
    all workers. Only --node-ip-address may differ between them; it is left out and Ray
    picks the address that routes to the head (the lab IP)."""
    rendered = [start_args(worker) for worker in workers]
    common = [arg for arg in rendered[0] if all(arg in other for other in rendered)]
    for worker, args in zip(workers, rendered, strict=True):
        differing = [arg for arg in args if arg not in common]
        if any(not arg.startswith(NODE_IP_OPTION) for arg in differing):
            raise RayUpError(f"{worker.name}: `ray start` options differ between workers "
                             f"({' '.join(differing)}); one worker command cannot match them")
    return ["ray stop", shlex.join(common)]


def rayup_image(ray_image: str) -> str:
    """The image `ray up` runs: the lab's Ray image plus LAUNCHER_PACKAGES, in the same
    registry, `<repository>-rayup` at the same tag."""
    name, _, tag = ray_image.rpartition(":")
    if not name or "/" in tag:
        raise RayUpError(f"ray_image {ray_image!r} has no tag")
    return f"{name}{IMAGE_REPOSITORY_SUFFIX}:{tag}"


def rayup_dockerfile(source: str) -> str:
    """The lab's image plus what Ray's launcher needs inside it; the image's PATH is
    written out as it is at build time (`$PATH` of the image's ENV)."""
    return (
        f"FROM {source}\n"
        "RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "
        f"--no-install-recommends {' '.join(LAUNCHER_PACKAGES)} && rm -rf /var/lib/apt/lists/* "
        f"&& echo \"export PATH=$PATH\" > {PROFILE_PATH_FILE} "
        "&& PIP_CERT=/etc/ssl/certs/ca-certificates.crt pip install --no-cache-dir "
        f"--disable-pip-version-check --no-deps {FILELOCK_PIN}\n"
    )


def cluster_config(state: dict, nodes: list[Node], image: str) -> dict:
    """The `ray up` cluster yaml for the lab: local provider, our hosts, our SSH user and
    key, `image`, and the run and start options our deploy renders."""
    head, workers = nodes[0], nodes[1:]
    if head.role != "head" or not workers:
        raise RayUpError("the side by side needs one head and at least one worker")
    head_options = docker_run_options(head)
    worker_options = [docker_run_options(worker) for worker in workers]
    if any(options != worker_options[0] for options in worker_options):
        raise RayUpError("the rendered docker options differ between workers; "
                         "Ray's yaml has one worker_run_options")
    return {
        "cluster_name": CLUSTER_NAME,
        "provider": {
            "type": "local",
            "head_ip": head.address,
            "worker_ips": [worker.address for worker in workers],
        },
        "auth": {"ssh_user": state["ssh_user"], "ssh_private_key": state["ssh_key"]},
        "min_workers": len(workers),
        "max_workers": len(workers),
        "docker": {
            "image": image,
            "container_name": CONTAINER,
            "pull_before_run": True,
            "head_run_options": head_options,
            "worker_run_options": worker_options[0],
        },
        "file_mounts": {},
        "initialization_commands": [],
        "setup_commands": [],
        "head_setup_commands": [],
        "worker_setup_commands": [],
        "head_start_ray_commands": head_start_commands(head),
        "worker_start_ray_commands": worker_start_commands(workers),
    }


# What `ray up` prints when it checks something, and that check in words.
RAY_UP_EVIDENCE = (
    ("Running `uptime` as a test", "SSH to the head answers (`uptime`)"),
    ("{{.State.Running}}", "whether its container is running (`docker inspect`)"),
    ("Configuration already up to date", "its config hash on the head (unchanged: setup skipped)"),
    ("Ray runtime started.", "`ray start --head` exited 0"),
)


def rayup_checked(output: str) -> str:
    """What `ray up` checked before it returned, in words, from its own output."""
    seen = [words for marker, words in RAY_UP_EVIDENCE if marker in output]
    return ("`ray up` checked on the head only: " + ("; ".join(seen) or "nothing it reported")
            + ". Workers are started afterwards by the head's autoscaler; it waited for no "
            "worker, no dashboard answer and no Serve")


def ours_checked(report: dict) -> str:
    """The check names our verify ran on each host (reports/verify.json), in words."""
    parts = []
    for name, entry in report.get("hosts", {}).items():
        names = [check["check"] for check in entry.get("checks", [])]
        ok = sum(1 for check in entry.get("checks", []) if check["ok"])
        parts.append(f"{name}: {ok}/{len(names)} green ({', '.join(names)})")
    verdict = "all green" if report.get("ok") else "NOT all green"
    return f"verify from the control machine, {verdict}: " + "; ".join(parts)


# --- Impure parts: the venv, the hosts, the two tools ----------------------------------


def ensure_venv() -> float | None:
    """bench/.venv-rayup with Ray's CLI; returns how long its install took (recorded
    the first time; None for a venv made by hand)."""
    if (VENV / "bin" / "ray").exists():
        return float(INSTALL_RECORD.read_text()) if INSTALL_RECORD.exists() else None
    started = time.monotonic()
    try:
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True, capture_output=True,
                       text=True, timeout=120)
        subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", RAY_SPEC], check=True,
                       capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S)
    except subprocess.CalledProcessError as error:
        output = (error.stdout + error.stderr)[-2000:]
        raise RayUpError(f"installing {RAY_SPEC} into {VENV} failed:\n{output}") from None
    except subprocess.TimeoutExpired:
        raise RayUpError(f"installing {RAY_SPEC} into {VENV} took over {INSTALL_TIMEOUT_S} s") from None
    seconds = round(time.monotonic() - started, 1)
    INSTALL_RECORD.write_text(f"{seconds}\n")
    return seconds


def run_ok(state: dict, host: dict, command: str, timeout: int = 600) -> str:
    code, out = labctl.run_on(state, host, command, timeout=timeout)
    if code != 0:
        raise RayUpError(f"{host['name']}: `{command}` failed ({code}):\n{out[-2000:]}")
    return out


def local(command: list[str], timeout: int, what: str, log: Path | None = None) -> tuple[float, str]:
    """Run `command` here, bounded; its output is kept in `log` whatever the outcome."""
    started = time.monotonic()
    try:
        done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=timeout,
                              env=_env())
    except subprocess.TimeoutExpired as error:
        output = error.stdout.decode(errors="replace") if isinstance(error.stdout, bytes) \
            else (error.stdout or "")
        if log:
            log.write_text(output)
        raise RayUpError(f"{what} took over {timeout} s (output in {log}):\n{output[-2000:]}") from None
    output = done.stdout + done.stderr
    if log:
        log.write_text(" ".join(command) + "\n" + output)
    if done.returncode != 0:
        errors = [line for line in output.splitlines() if "ERR" in line or "rror" in line]
        raise RayUpError(f"{what} failed ({done.returncode}, output in {log}):\n"
                         + "\n".join(errors[-15:]) + "\n" + output[-1500:])
    return time.monotonic() - started, output


def _env() -> dict:
    import os
    return {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}


def alive_ids(head_ip: str, port: int) -> dict[str, str]:
    """node_id -> node_ip of every ALIVE node ({} while the dashboard does not answer)."""
    try:
        return {node["node_id"]: node["node_ip"] for node in checks.alive_nodes(FROM_CONTROL, head_ip, port)}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


class AliveWatch:
    """Polls the head's dashboard from `start()` until a node of each `expected` IP is ALIVE."""

    def __init__(self, head_ip: str, port: int, expected: list[str], timeout_s: float = ALIVE_TIMEOUT_S):
        self.head_ip, self.port, self.timeout_s = head_ip, port, timeout_s
        self.expected = sorted(expected)
        self.seconds: float | None = None
        self.nodes: dict[str, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def start(self) -> "AliveWatch":
        self._started = time.monotonic()
        self._thread.start()
        return self

    def _poll(self) -> None:
        while not self._stop.is_set() and time.monotonic() - self._started < self.timeout_s:
            self.nodes = alive_ids(self.head_ip, self.port)
            if set(self.expected) <= set(self.nodes.values()):
                self.seconds = time.monotonic() - self._started
                return
            time.sleep(POLL_S)

    def wait(self, budget_s: float) -> float:
        """Seconds from start() until every node was ALIVE; raises past the deadline."""
        self._thread.join(max(0.0, min(budget_s, self.timeout_s - (time.monotonic() - self._started))))
        self._stop.set()
        if self.seconds is None:
            seen = sorted(self.nodes.values())
            raise RayUpError(f"ALIVE nodes on {self.head_ip}:{self.port} after {self.timeout_s:.0f} s: "
                             f"{seen}; expected {self.expected}")
        return self.seconds


def started_at(state: dict, name_filter: str) -> dict[str, str]:
    """host -> StartedAt of its Ray container (matched by `docker ps --filter`)."""
    found = {}
    for host in state["hosts"]:
        out = run_ok(state, host, f"sudo docker ps -q --filter {shlex.quote(name_filter)} "
                                  "| xargs -r sudo docker inspect -f '{{.Name}} {{.State.StartedAt}}'")
        found[host["name"]] = " ".join(sorted(out.split()))
    return found


def serve_answers(head_ip: str, port: int, route: str) -> bool:
    try:
        return requests.get(f"http://{head_ip}:{port}{route}", timeout=5).status_code == 200
    except requests.RequestException:
        return False


def remove_our_containers(state: dict) -> None:
    remove = remove_labelled_containers(render.MANAGED_LABEL, render.MANAGED_VALUE)
    command = f"sudo sh -c {shlex.quote(remove)}"
    for host in state["hosts"]:
        run_ok(state, host, command)


def prepare_hosts_for_ray_up(state: dict) -> list[str]:
    """What Ray's launcher needs on the hosts that our deploy does not: rsync (it syncs
    its files with rsync over SSH) and Docker without sudo for the SSH user (it runs
    `docker` as that user; its yaml has no sudo switch). Returns the steps, in words."""
    user = state["ssh_user"]
    for host in state["hosts"]:
        run_ok(state, host, "command -v rsync >/dev/null || (sudo env DEBIAN_FRONTEND=noninteractive "
                            "apt-get install -y -q --no-install-recommends rsync >/dev/null)", timeout=600)
        run_ok(state, host, f"sudo usermod -aG docker {shlex.quote(user)}")
    return [
        "installed rsync on every host (Ray's launcher syncs its files with rsync over SSH)",
        f"added the SSH user {user} to the docker group on every host (Ray runs `docker` "
        "without sudo; root-equivalent access, which our deploy never grants)",
        "disabled SSH host key checking (Ray's launcher always does; our deploy checks the "
        "lab's known_hosts)",
    ]


def build_rayup_image(state: dict) -> tuple[str, str]:
    """The lab's Ray image plus LAUNCHER_PACKAGES, pushed to the lab registry and pulled on
    every host (outside the timings, as our image is). Returns (image, step in words)."""
    image = rayup_image(state["ray_image"])
    registry, push = state["registry"]["address"], state["registry"]["push_address"]
    source = state["ray_image"].replace(registry, push, 1)
    target = image.replace(registry, push, 1)
    dockerfile = rayup_dockerfile(source)
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    (WORK_DIR / "Dockerfile").write_text(dockerfile)
    import os
    label = f"io.seedcore.lab.name={os.environ.get('SEEDCORE_LAB_NAME', 'seedcore-lab')}"
    local(["docker", "pull", "-q", source], 300, f"docker pull {source}")
    local(["docker", "build", "-q", "--label", label, "-t", target, str(WORK_DIR)], 600,
          f"building {target}")
    local(["docker", "push", "-q", target], 300, f"docker push {target}")
    for host in state["hosts"]:
        run_ok(state, host, f"sudo docker pull -q {shlex.quote(image)}", timeout=600)
    return image, (f"ran {image} = the lab's Ray image + {', '.join(LAUNCHER_PACKAGES)} "
                   "(Ray's launcher rsyncs into the container and the head's autoscaler "
                   "reaches the workers over SSH; the lab image has neither) + "
                   f"{PROFILE_PATH_FILE} (its login shells reset PATH, losing the image's "
                   f"/opt/ray/bin) + {FILELOCK_PIN} (with the image's filelock 4.x, Ray 2.20's "
                   "local provider deadlocks in the head's autoscaler and no worker joins: "
                   "ray-project/ray#49909)")


def ray_cli(*args: str) -> list[str]:
    return [str(VENV / "bin" / "ray"), *args]


def measure_ray_up(state: dict, nodes: list[Node], setup: list[str]) -> dict:
    head = nodes[0]
    port = head.settings["ray_dashboard_port"]
    serve = head.settings["serve_http_port"], head.settings["serve_health_route"]
    image, step = build_rayup_image(state)
    setup = [*setup, step]
    config = cluster_config(state, nodes, image)
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    path = WORK_DIR / "cluster.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    # A clean start: no container and no provider state left by an earlier run.
    for host in state["hosts"]:
        run_ok(state, host, f"sudo docker rm -f {CONTAINER} >/dev/null 2>&1 || true")
    Path(f"/tmp/ray/cluster-{CLUSTER_NAME}.state").unlink(missing_ok=True)
    up = ray_cli("up", "-y", "--no-config-cache", "--log-style=record", "--log-color=false", str(path))
    figures: dict = {}
    try:
        watch = AliveWatch(head.address, port, [n.address for n in nodes]).start()
        seconds, output = local(up, RAY_UP_TIMEOUT_S, "ray up", WORK_DIR / "ray-up-1.log")
        figures["command_s"] = round(seconds, 1)
        figures["nodes_alive_s"] = round(watch.wait(ALIVE_TIMEOUT_S), 1)
        before_containers = started_at(state, f"name={CONTAINER}")
        before_nodes = alive_ids(head.address, port)
        started = time.monotonic()
        local(up, RAY_UP_TIMEOUT_S, "ray up (re-run)", WORK_DIR / "ray-up-2.log")
        after = AliveWatch(head.address, port, [n.address for n in nodes]).start()
        after.wait(ALIVE_TIMEOUT_S)
        figures["noop_rerun_s"] = round(time.monotonic() - started, 1)
        after_containers = started_at(state, f"name={CONTAINER}")
        figures["noop_containers_restarted"] = sum(
            1 for name in before_containers if after_containers[name] != before_containers[name])
        figures["noop_ray_nodes_restarted"] = len(set(before_nodes) - set(after.nodes))
        # Ray's own switch for a re-run that leaves Ray running (not the default).
        before_nodes = dict(after.nodes)
        started = time.monotonic()
        local([*up[:2], "--no-restart", *up[2:]], RAY_UP_TIMEOUT_S, "ray up --no-restart",
              WORK_DIR / "ray-up-3.log")
        again = AliveWatch(head.address, port, [n.address for n in nodes]).start()
        again.wait(ALIVE_TIMEOUT_S)
        figures["noop_rerun_no_restart_s"] = round(time.monotonic() - started, 1)
        figures["noop_no_restart_ray_nodes_restarted"] = len(set(before_nodes) - set(again.nodes))
        figures["serve_deployed"] = serve_answers(head.address, *serve)
        figures["checks_at_end"] = rayup_checked(output)
        figures["setup_by_bench"] = setup
    finally:
        local(ray_cli("down", "-y", "--log-style=record", "--log-color=false", str(path)),
              RAY_DOWN_TIMEOUT_S, "ray down", WORK_DIR / "ray-down.log")
        # `ray down` stops what the control machine's provider state lists: the head.
        # The workers were started by the head's autoscaler, whose state went with it.
        left = sorted(name for name, seen in started_at(state, f"name={CONTAINER}").items() if seen)
        for host in state["hosts"]:
            run_ok(state, host, f"sudo docker rm -f {CONTAINER} >/dev/null 2>&1 || true")
    figures["teardown_left_running"] = left
    return figures


def measure_ours(state: dict, nodes: list[Node]) -> dict:
    head = nodes[0]
    port = head.settings["ray_dashboard_port"]
    deploy = [labctl.PYINFRA, "-y", cluster_inventory(), "deploy/cluster.py"]
    watch = AliveWatch(head.address, port, [n.address for n in nodes]).start()
    seconds, _ = local(deploy, DEPLOY_TIMEOUT_S, "our deploy")
    figures = {"command_s": round(seconds, 1), "nodes_alive_s": round(watch.wait(ALIVE_TIMEOUT_S), 1)}
    report = json.loads((REPO / head.settings["verify_report_path"]).read_text())
    before_containers = {h["name"]: labctl.started_at(state, h) for h in state["hosts"]}
    before_nodes = alive_ids(head.address, port)
    seconds, _ = local(deploy, DEPLOY_TIMEOUT_S, "our deploy (re-run)")
    after = AliveWatch(head.address, port, [n.address for n in nodes]).start()
    after.wait(ALIVE_TIMEOUT_S)
    figures["noop_rerun_s"] = round(seconds, 1)
    after_containers = {h["name"]: labctl.started_at(state, h) for h in state["hosts"]}
    figures["noop_containers_restarted"] = sum(
        1 for name, containers in before_containers.items() for container, when in containers.items()
        if after_containers[name].get(container) != when)
    figures["noop_ray_nodes_restarted"] = len(set(before_nodes) - set(after.nodes))
    figures["serve_deployed"] = serve_answers(
        head.address, head.settings["serve_http_port"], head.settings["serve_health_route"])
    figures["checks_at_end"] = ours_checked(report)
    figures["setup_by_bench"] = []
    return figures


def measure(state: dict) -> dict:
    """{"ray_up": {...}, "ours": {...}} on the lab's hosts (see the module docstring).
    Raises RayUpError naming the step that failed."""
    if shutil.which("rsync") is None:
        raise RayUpError("rsync is not installed on the control machine: Ray's launcher needs it "
                         "(apt-get install rsync)")
    install_s = ensure_venv()
    nodes = lab_nodes(state, lab_group_data())
    # (1) Docker installed and the image pulled, by one run of our deploy.
    local([labctl.PYINFRA, "-y", cluster_inventory(), "deploy/cluster.py"], DEPLOY_TIMEOUT_S,
          "our deploy (to install Docker and pull the image)")
    # (2) No Ray running anywhere.
    remove_our_containers(state)
    setup = prepare_hosts_for_ray_up(state)
    ray_up = measure_ray_up(state, nodes, setup)
    took = "time not recorded" if install_s is None else f"{install_s:.0f} s"
    ray_up["setup_by_bench"].append(f"installed {RAY_SPEC} into bench/.venv-rayup ({took}, once)")
    # (7) Ours, from the same point: Docker installed, image present, no containers.
    ours = measure_ours(state, nodes)
    return {"ray_up": ray_up, "ours": ours}


def main() -> int:
    from lab import state as lab_state
    result = measure(lab_state.require_up())
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
