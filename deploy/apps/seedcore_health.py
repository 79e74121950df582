"""The cluster's own health route for Ray Serve: GET /health answers JSON.

Shipped by the deploy to every host and imported by Serve as
`seedcore_health:app`; it reports what an operator checks first.
"""

import ray
from ray import serve


@serve.deployment(ray_actor_options={"num_cpus": 0})
class Health:
    async def __call__(self, request) -> dict:
        alive = [node for node in ray.nodes() if node.get("Alive")]
        return {
            "status": "ok",
            "ray_version": ray.__version__,
            "alive_nodes": len(alive),
        }


app = Health.bind()
