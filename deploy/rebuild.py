"""Disaster rebuild: `pyinfra inventories/prod.py deploy/rebuild.py`.

Takes bare, half-provisioned or broken hosts (stale containers, a stopped
Docker, a head that is gone) to the same verified cluster as cluster.py. Before
any container is removed, its logs and Ray session logs are archived on its
host under `<ray_project_dir>/archive/<UTC time>/`. Workers still pointing at
another head are reported in preflight and re-pointed. Named volumes and
anything outside the project directory are never deleted.
"""

from pyinfra import host, inventory, state

from seedcore.start import Kind, start_run
from seedcore.tasks.whole import whole_cluster

# The same steps as cluster.py; preflight lets a stopped Docker through.
start_run(state, Kind.REBUILD)
whole_cluster(host, inventory)
