"""The cluster's own health route for Ray Serve: GET /health answers JSON.

Shipped by the deploy to every host and imported by Serve as
`seedcore_health:app`; it reports what an operator checks first.
"""

import threading
import time

import ray
from ray import serve

# How often a replica re-reads the cluster's node list from the GCS.
REFRESH_S = 2.0
# The resource only the nodes that take work advertise (seedcore/commands.py
# WORK_RESOURCE): every worker, and the head only when it advertises CPUs.
WORK_RESOURCE = "seedcore_work"


def draining_nodes() -> set[str]:
    """The IDs of the nodes being drained (`ray drain-node`). Ray 2.20's own Serve does
    not move replicas off them; this app does, through its health check."""
    from ray._private.state import state

    return set(state.get_draining_nodes())


# One replica per node that takes work (the Serve config asks for as many), so every
# worker runs a proxy and answers /health itself: a worker keeps answering while
# the head restarts or a worker's batch is rolled. None on a head that does no work.
@serve.deployment(max_replicas_per_node=1,
                  ray_actor_options={"num_cpus": 0, "resources": {WORK_RESOURCE: 0.001}})
class Health:
    def __init__(self):
        self._node_id = ray.get_runtime_context().get_node_id()
        if self._node_id in draining_nodes():
            raise RuntimeError(f"node {self._node_id} is being drained: no replica starts on it")
        self._draining = False
        self._alive = self._count_alive()
        # The GCS is read off the request path: while the head is away a
        # request is answered from the last count instead of waiting on it.
        threading.Thread(target=self._refresh, daemon=True).start()

    @staticmethod
    def _count_alive() -> int:
        return len([node for node in ray.nodes() if node.get("Alive")])

    def _refresh(self) -> None:
        while True:
            time.sleep(REFRESH_S)
            try:
                self._alive = self._count_alive()
                self._draining = self._node_id in draining_nodes()
            except Exception:  # noqa: BLE001 - the GCS away: keep the last answers
                pass

    def check_health(self) -> None:
        """Serve's health check: failing it on a draining node makes Serve stop this
        replica gracefully (its requests finish, no new ones come) and start one on
        another node, before the node is stopped."""
        if self._draining:
            raise RuntimeError(f"node {self._node_id} is being drained: this replica moves off it")

    async def __call__(self, request) -> dict:
        return {
            "status": "ok",
            "ray_version": ray.__version__,
            "alive_nodes": self._alive,
        }


app = Health.bind()
