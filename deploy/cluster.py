"""The whole job: `pyinfra inventories/prod.py deploy/cluster.py`.

Preflight (facts only, every host, before any change) -> the deploy lock on
the head -> Docker (and NVIDIA's
runtime on GPU hosts) -> compose files and env -> pull the image -> stop /
clean / start only what is not current, workers after the head -> Serve ->
verify every node -> Prometheus on the `monitoring` host, verified.
"""

from pyinfra import host, inventory, state

from seedcore.start import Kind, start_run
from seedcore.tasks.whole import whole_cluster

start_run(state, Kind.CONVERGE)
whole_cluster(host, inventory)
