"""The local lab in the recommended production shape (inventories/prod.py): what
`make demo` deploys.

    make demo            # LAB_HOSTS=4: python -m lab up, then this inventory
    pyinfra inventories/demo.py deploy/verify.py

The lab's hosts (`.lab/state.json`, see inventories/lab.py for how each is reached):
the first is the Ray head, the one before last holds the GCS store (Redis, TLS
only) and runs no Ray node, as `ray-store-1` does in prod; the others are
workers, the last also the monitoring host (Prometheus), as `ray-worker-2` in
prod. Mutual TLS, the host firewall and the web door are on, as by default.
The store's password is the lab's (`.lab/gcs-store-password`, made on first use)
and the door's `.lab/web-password`, each put in its variable unless the shell
sets it already.
"""

import sys
from pathlib import Path

_REPO = str(Path(__file__).resolve().parents[1])
if _REPO not in sys.path:
    sys.path.insert(0, _REPO)

from pyinfra.api.exceptions import PyinfraError  # noqa: E402

from lab.errors import LabNotUp  # noqa: E402
from lab.inventory import export_gcs_store_password, export_web_password, host_entry  # noqa: E402
from lab.state import require_up  # noqa: E402

try:
    _state = require_up()
    _hosts = [host_entry(_state, entry) for entry in _state["hosts"]]
    if len(_hosts) < 3:
        raise LabNotUp(
            f"the demo needs at least 3 lab hosts (a head, the GCS store, a worker and monitoring host); "
            f"the lab has {len(_hosts)}: run `make demo` (LAB_HOSTS=4) or `python -m lab up --hosts 4`"
        )
    export_web_password()
    export_gcs_store_password()
except LabNotUp as _error:
    raise PyinfraError(str(_error)) from None

ray_head = _hosts[:1]
ray_workers = _hosts[1:-2] + _hosts[-1:]
gpu = []
# Head fault tolerance: the GCS store on a host of its own (no Ray node), the one before last.
ray_gcs_store = _hosts[-2:-1]
# Prometheus on the last host, a worker (the lab's monitoring host, as in inventories/lab.py).
monitoring = _hosts[-1:]
# Every host in group `lab`, so group_data/lab.py applies as it does to inventories/lab.py.
lab = list(_hosts)
