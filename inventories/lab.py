"""The local lab as an inventory: the hosts `python -m lab up` made (`make lab`).

    pyinfra inventories/lab.py deploy/cluster.py

Built from `.lab/state.json`: the first host is the head, the rest are workers.
Hosts are named by their container name and reached at their lab IP as the
unprivileged `seedcore` user with the lab's key; SSH host keys are checked
against `.lab/known_hosts`. Docker comes from Debian's own packages and pulls
the Ray image from the lab's plain-HTTP registry.
"""

import sys
from pathlib import Path

_REPO = str(Path(__file__).resolve().parents[1])
if _REPO not in sys.path:
    sys.path.insert(0, _REPO)

from pyinfra.api.exceptions import PyinfraError  # noqa: E402

from lab.errors import LabNotUp  # noqa: E402
from lab.state import require_up  # noqa: E402

try:
    _state = require_up()
except LabNotUp as _error:
    raise PyinfraError(str(_error)) from None


def _host(entry: dict) -> tuple[str, dict]:
    return (
        entry["name"],
        {
            "ssh_hostname": entry["ip"],
            "ssh_user": _state["ssh_user"],
            "ssh_key": _state["ssh_key"],
            "ssh_known_hosts_file": _state["known_hosts"],
            "ssh_strict_host_key_checking": "yes",
            "_sudo": True,
            "ray_image": _state["ray_image"],
            "docker_install_source": "distro",
            "docker_insecure_registries": [_state["registry"]["address"]],
        },
    )


ray_head = [_host(entry) for entry in _state["hosts"] if entry["role"] == "head"]
ray_workers = [_host(entry) for entry in _state["hosts"] if entry["role"] == "worker"]
gpu = []
