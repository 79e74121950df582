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


# One replica per node (the Serve config asks for as many as there are nodes),
# so every node runs a proxy and answers /health itself: a worker keeps
# answering while the head restarts or a worker's batch is rolled.
@serve.deployment(max_replicas_per_node=1, ray_actor_options={"num_cpus": 0})
class Health:
    def __init__(self):
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
            except Exception:  # noqa: BLE001 - the GCS away: keep the last count
                pass

    async def __call__(self, request) -> dict:
        return {
            "status": "ok",
            "ray_version": ray.__version__,
            "alive_nodes": self._alive,
        }


app = Health.bind()
