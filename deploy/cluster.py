"""The whole job: `pyinfra inventories/prod.py deploy/cluster.py`.

Preflight (facts only, every host, before any change) -> the deploy lock on
the head -> Docker (and NVIDIA's
runtime on GPU hosts) -> compose files and env -> pull the image -> stop /
clean / start only what is not current, workers after the head -> Serve ->
verify every node -> Prometheus on the `monitoring` host, verified.
"""

from pyinfra import host, inventory, state

from deploy.lock import hold_lock
from deploy.plan import plan_for
from deploy.runwatch import watch
from deploy.tasks.converge import converge
from deploy.tasks.firewall import install_firewall
from deploy.tasks.gcs_store import install_gcs_store
from deploy.tasks.monitoring import watch_cluster
from deploy.tasks.preflight import run_preflight
from deploy.topology import role_of, settings_for

watch(state)
run_preflight(state)
hold_lock(state)
# The host firewall first, on every host: no Ray port is ever open to the world.
if settings_for(host)["firewall_manage"]:
    install_firewall(inventory)
# The GCS store host (head fault tolerance) is not a Ray node; its Redis is up
# before the head starts.
if role_of(host) == "store":
    install_gcs_store(inventory)
elif role_of(host) != "monitoring":
    converge(plan_for(host, inventory))
# Monitoring (optional): Prometheus on the host in group `monitoring` (it may
# also be a Ray node), once the nodes are up; Ray's Grafana dashboards from the head.
watch_cluster(inventory)
