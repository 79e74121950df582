"""Whether the head restarts is decided once per run, from the head's facts,
and every worker follows that decision instead of reading the head itself."""


from pyinfra.api import Inventory
from pyinfra.context import ctx_host

from seedcore.operations import ray
from seedcore.render import config_hash
from seedcore.topology import node_for
from tests.harness import FakeHost

IMAGE = "registry.example.com/seedcore/ray:2.20.0"


class _State:
    """Just enough of pyinfra's State: the inventory."""

    def __init__(self, inventory):
        self.inventory = inventory


def _inventory():
    return Inventory(
        ([("head-1", {"ssh_hostname": "10.0.0.10"}),
          ("worker-1", {"ssh_hostname": "10.0.0.11"}),
          ("worker-2", {"ssh_hostname": "10.0.0.12"})],
         {"ray_image": IMAGE}),
        ray_head=(["head-1"], {}),
        ray_workers=(["worker-1", "worker-2"], {}),
    )


def _run(monkeypatch, head_label: str | None = None):
    """A run whose head container carries `head_label` (None: the head's current digest)."""
    inventory = _inventory()
    head_node = node_for(inventory.get_host("head-1"), inventory)
    state = _State(inventory)
    reads = []
    container = {"id": "3f1c9a7e5b2d", "name": "seedcore-ray-head", "image": IMAGE, "status": "running",
                 "health": "healthy", "config_hash": head_label or config_hash(head_node), "managed": True}

    def project_containers(host, settings):
        reads.append(host.name)
        return [container]

    monkeypatch.setattr(ray, "project_containers", project_containers)
    return state, config_hash(head_node), reads


def _worker_asks(state, head_hash: str) -> bool:
    worker = FakeHost(name="worker-1", groups=["ray_workers"])
    worker.state = state
    with ctx_host.use(worker):
        return ray.head_is_current(None, "head-1", head_hash)


def test_a_current_head_is_read_once_and_every_worker_follows_it(monkeypatch):
    state, digest, reads = _run(monkeypatch)
    assert ray.decide_head(state) == {"head-1": (digest, True)}
    assert [_worker_asks(state, digest) for _ in range(5)] == [True] * 5
    assert reads == ["head-1"]


def test_a_head_on_an_older_config_restarts_and_so_do_its_workers(monkeypatch):
    state, digest, reads = _run(monkeypatch, head_label="0ld0ld0ld0ld0ld0")
    assert ray.decide_head(state) == {"head-1": (digest, False)}
    assert _worker_asks(state, digest) is False
    assert reads == ["head-1"]


def test_a_worker_following_another_head_digest_is_not_told_the_head_is_current(monkeypatch):
    state, digest, reads = _run(monkeypatch)
    assert _worker_asks(state, "another0digest00") is False
