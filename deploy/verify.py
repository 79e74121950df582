"""Verify only, changing nothing: `pyinfra inventories/prod.py deploy/verify.py`."""

from pyinfra import host, inventory, state

from deploy.plan import plan_for
from deploy.start import Kind, start_run
from deploy.tasks.monitoring import verify_monitoring
from deploy.tasks.verify import verify_node
from deploy.topology import is_monitoring_host, role_of

start_run(state, Kind.VERIFY)
# The GCS store host is checked from the head's checks (the store answers).
if role_of(host) not in ("store", "monitoring"):
    plan = plan_for(host, inventory)
    verify_node(plan.node, plan.expected_nodes, plan.all_hosts)
if is_monitoring_host(host):
    verify_monitoring(inventory)
