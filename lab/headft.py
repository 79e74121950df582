"""Head fault tolerance, measured on the lab: a client calls /health through a
worker every 0.2 s while the head restarts or its host is rebuilt. Shared by
tests/e2e/test_head_ft.py (which asserts) and bench/run.py (which publishes);
kept free of assertions."""

import threading
import time

import requests

from lab import control as labctl
from lab import lifecycle as lab_lifecycle

PASSWORD = 'gcs "store" pass $word'
ENV = {"SEEDCORE_GCS_STORE_PASSWORD": PASSWORD}


class HealthClient(threading.Thread):
    """Calls a node's Serve /health every 0.2 s until stopped: failures and the
    longest time between two answered requests."""

    def __init__(self, ip: str):
        super().__init__(daemon=True)
        self.url = f"http://{ip}:8000/health"
        self.ok = 0
        self.failed: list[str] = []
        self.longest_gap_s = 0.0
        self.stop = threading.Event()

    def run(self):
        last_ok = time.monotonic()
        deadline = last_ok + 1200
        while not self.stop.is_set() and time.monotonic() < deadline:
            try:
                response = requests.get(self.url, timeout=2)
                good = response.status_code == 200 and response.json()["status"] == "ok"
                if not good:
                    self.failed.append(f"HTTP {response.status_code}")
            except (requests.RequestException, ValueError) as error:
                good = False
                self.failed.append(type(error).__name__)
            now = time.monotonic()
            if good:
                self.ok += 1
                self.longest_gap_s = max(self.longest_gap_s, now - last_ok)
                last_ok = now
            self.stop.wait(0.2)
        self.longest_gap_s = max(self.longest_gap_s, time.monotonic() - last_ok)


class HeadWatch(threading.Thread):
    """How long the head's GCS was away: from its first failed health check to
    the next answered one (0 when it never went away)."""

    def __init__(self, ip: str):
        super().__init__(daemon=True)
        self.url = f"http://{ip}:8265/api/gcs_healthz"
        self.down_since: float | None = None
        self.back_s = 0.0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            try:
                up = requests.get(self.url, timeout=2).text.strip() == "success"
            except requests.RequestException:
                up = False
            now = time.monotonic()
            if not up and self.down_since is None:
                self.down_since = now
            elif up and self.down_since is not None:
                self.back_s = max(self.back_s, now - self.down_since)
                self.down_since = None
            self.stop.wait(0.5)


def worker_identity(lab_state, head, workers) -> dict[str, tuple[str, str]]:
    """worker IP -> (its container's StartedAt, its Ray node ID)."""
    url = (f"http://{head['ip']}:8265/api/v0/nodes"
           "?filter_keys=state&filter_predicates=%3D&filter_values=ALIVE")
    nodes = requests.get(url, timeout=10).json()["data"]["result"]["result"]
    by_ip = {node["node_ip"]: node["node_id"] for node in nodes}
    started = {w["ip"]: labctl.started_at(lab_state, w).get("seedcore-ray-worker", "gone") for w in workers}
    return {ip: (when, by_ip.get(ip, "none")) for ip, when in started.items()}


def measured(lab_state, head, workers, action) -> dict:
    """Run `action` while a client calls /health through the first worker."""
    before = worker_identity(lab_state, head, workers)
    client, watch = HealthClient(workers[0]["ip"]), HeadWatch(head["ip"])
    client.start()
    watch.start()
    time.sleep(2)
    run = action()
    time.sleep(5)
    client.stop.set()
    watch.stop.set()
    client.join()
    watch.join()
    after = worker_identity(lab_state, head, workers)
    figures = {
        "failed_requests": len(client.failed),
        "longest_gap_s": round(client.longest_gap_s, 1),
        "workers_restarted": sum(1 for ip in before if before[ip] != after.get(ip)),
        "head_back_s": round(watch.back_s, 1),
    }
    print(f"\n{figures} (answered {client.ok}; failures {sorted(set(client.failed))})")
    return {"run": run, "figures": figures, "before": before, "after": after}


def store_inventory(name: str, head_env: str = "") -> str:
    """The lab with its third host as the GCS store (not a Ray node)."""
    body = "ray_gcs_store = ray_workers[1:2]\nray_workers = ray_workers[:1] + ray_workers[2:]\n"
    if head_env:
        body += ("for _name, data in ray_head:\n"
                 f"    data['ray_env'] = {{'SEEDCORE_RELEASE': {head_env!r}}}\n")
    return labctl.write_inventory(name, body)


def plain_inventory(name: str, head_env: str) -> str:
    return labctl.write_inventory(
        name,
        f"""
        for _name, data in ray_head:
            data["ray_env"] = {{"SEEDCORE_RELEASE": {head_env!r}}}
        """,
    )


def serve_deployed_at(head) -> float:
    apps = requests.get(f"http://{head['ip']}:8265/api/serve/applications/", timeout=10).json()
    return apps["applications"]["seedcore-health"]["last_deployed_time_s"]


def roles_of(lab_state: dict) -> dict:
    """The lab's head, its third host as the GCS store, the other workers."""
    hosts = lab_state["hosts"]
    head = next(h for h in hosts if h["role"] == "head")
    lab_workers = [h for h in hosts if h["role"] == "worker"]
    return {"head": head, "store": lab_workers[1], "workers": [lab_workers[0], *lab_workers[2:]],
            "all_workers": lab_workers}


def release_without_store(lab_state, roles) -> dict:
    """(a) without the store: a release that changes the head, through rollout.py."""
    return measured(lab_state, roles["head"], roles["all_workers"], lambda: labctl.pyinfra(
        plain_inventory("no_ft_release", "no-ft-1"), "deploy/rollout.py"))


def rebuild_without_store(lab_state, roles) -> dict:
    """(b) without the store: the head host destroyed, then rebuild.py."""
    def destroy_and_rebuild():
        lab_lifecycle.recreate(roles["head"]["name"])
        return labctl.pyinfra(plain_inventory("no_ft_rebuild", "no-ft-1"), "deploy/rebuild.py")
    return measured(lab_state, roles["head"], roles["all_workers"], destroy_and_rebuild)


def move_onto_store(lab_state, roles) -> labctl.Run:
    """The running cluster moved onto the store: the store host's Ray worker
    removed by hand (it gets a host of its own), then cluster.py."""
    labctl.run_on(lab_state, roles["store"], "sudo docker rm -f seedcore-ray-worker")
    return labctl.pyinfra(store_inventory("ft_on"), "deploy/cluster.py", env=ENV)


def release_with_store(lab_state, roles) -> dict:
    """(a) with the store: a release that changes the head, through rollout.py."""
    return measured(lab_state, roles["head"], roles["workers"], lambda: labctl.pyinfra(
        store_inventory("ft_release", head_env="ft-1"), "deploy/rollout.py", env=ENV))


def rebuild_with_store(lab_state, roles) -> dict:
    """(b) with the store: the head host destroyed, then rebuild.py."""
    def destroy_and_rebuild():
        lab_lifecycle.recreate(roles["head"]["name"])
        return labctl.pyinfra(store_inventory("ft_rebuild", head_env="ft-1"), "deploy/rebuild.py", env=ENV)
    return measured(lab_state, roles["head"], roles["workers"], destroy_and_rebuild)
