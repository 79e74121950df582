"""The cluster's own health route for Ray Serve: GET /health answers JSON.

Shipped by the deploy to every host and imported by Serve as
`seedcore_health:app`; it reports what an operator checks first.
"""

import ray
from ray import serve


# Pinned to the head (Ray gives the head the resource node:__internal_head__),
# so the route stays up while workers restart one batch at a time.
@serve.deployment(ray_actor_options={"num_cpus": 0, "resources": {"node:__internal_head__": 0.001}})
class Health:
    async def __call__(self, request) -> dict:
        alive = [node for node in ray.nodes() if node.get("Alive")]
        return {
            "status": "ok",
            "ray_version": ray.__version__,
            "alive_nodes": len(alive),
        }


app = Health.bind()
