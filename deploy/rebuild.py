"""Disaster rebuild: `pyinfra inventories/prod.py deploy/rebuild.py`.

Takes bare, half-provisioned or broken hosts (stale containers, a stopped
Docker, a head that is gone) to the same verified cluster as cluster.py. Before
any container is removed, its logs and Ray session logs are archived on its
host under `<ray_project_dir>/archive/<UTC time>/`. Workers still pointing at
another head are reported in preflight and re-pointed. Named volumes and
anything outside the project directory are never deleted.
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
run_preflight(state, allow_docker_down=True)
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
# A lost monitoring host comes back with its Prometheus, like any other.
watch_cluster(inventory)
