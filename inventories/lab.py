"""The local lab as an inventory: the hosts `python -m lab up` made (`make lab`).

    pyinfra inventories/lab.py deploy/cluster.py

Built from `.lab/state.json`: the first host is the head, the rest are workers.
Hosts are named by their container name and reached at their lab IP as the
unprivileged `seedcore` user with the lab's key; SSH host keys are checked
against `.lab/known_hosts`. Each host installs Docker from the source `lab up`
recorded for it: "distro" (the host's own Debian archive) or "docker" (the
lab's signed apt mirror, laid out like Docker's repository and carrying
Debian's package names, docker.io pinned to the version only the mirror has).
Every host pulls the Ray image from the lab's plain-HTTP registry. The last
worker is also the monitoring host (Prometheus from its Debian archive). The
web door's password is the lab's (`.lab/web-password`, made on first use),
put in SEEDCORE_WEB_PASSWORD unless that is set already.
"""

import sys
from pathlib import Path

_REPO = str(Path(__file__).resolve().parents[1])
if _REPO not in sys.path:
    sys.path.insert(0, _REPO)

from pyinfra.api.exceptions import PyinfraError  # noqa: E402

from lab.errors import LabNotUp  # noqa: E402
from lab.inventory import export_web_password, host_entry  # noqa: E402
from lab.state import require_up  # noqa: E402

try:
    _state = require_up()
    ray_head = [host_entry(_state, entry) for entry in _state["hosts"] if entry["role"] == "head"]
    ray_workers = [host_entry(_state, entry) for entry in _state["hosts"] if entry["role"] == "worker"]
    # The web door's password (SEEDCORE_WEB_PASSWORD), the lab's own in .lab/web-password
    # unless the shell sets one.
    export_web_password()
except LabNotUp as _error:
    raise PyinfraError(str(_error)) from None

gpu = []
# Prometheus on the last worker (a Ray node too): `make demo` prints its URL.
monitoring = ray_workers[-1:]
