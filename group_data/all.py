"""Values for every host of every inventory. Defaults for every key are in
seedcore/defaults.py and listed in docs/data-keys.md; set here only what differs.
"""

# Connect as an unprivileged user and use sudo for changes.
_sudo = True

# Before pyinfra connects: an inventory with no host, or an ssh_key that is not
# on this machine, is refused in one line (pyinfra would exit 0 / crash).
from pyinfra import inventory as _inventory  # noqa: E402

from seedcore.validate import refuse_unconnectable as _refuse  # noqa: E402

_refuse(_inventory)
