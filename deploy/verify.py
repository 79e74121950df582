"""Verify only, changing nothing: `pyinfra inventories/prod.py deploy/verify.py`."""

from pyinfra import host, inventory, state

from deploy.plan import plan_for
from deploy.runwatch import watch
from deploy.tasks.monitoring import verify_monitoring
from deploy.tasks.verify import verify_node
from deploy.topology import is_monitoring_host, role_of
from deploy.validate import InventoryError, check_inventory

watch(state)
problems = check_inventory(inventory)
if problems:
    raise InventoryError("the inventory is not valid:\n  " + "\n  ".join(problems))
# The GCS store host is checked from the head's checks (the store answers).
if role_of(host) not in ("store", "monitoring"):
    plan = plan_for(host, inventory)
    verify_node(plan.node, plan.expected_nodes, plan.all_hosts)
if is_monitoring_host(host):
    verify_monitoring(inventory)
