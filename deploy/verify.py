"""Verify only, changing nothing: `pyinfra inventories/prod.py deploy/verify.py`."""

from pyinfra import host, inventory, state

from seedcore.plan import plan_for
from seedcore.start import Kind, start_run
from seedcore.tasks.monitoring import verify_monitoring
from seedcore.tasks.verify import verify_node
from seedcore.topology import is_monitoring_host, role_of

start_run(state, Kind.VERIFY)
# The GCS store host is checked from the head's checks (the store answers).
if role_of(host) not in ("store", "monitoring"):
    plan = plan_for(host, inventory)
    verify_node(plan.node, plan.expected_nodes, plan.all_hosts)
if is_monitoring_host(host):
    verify_monitoring(inventory)
