"""Values for every host of every inventory. Defaults for every key are in
deploy/defaults.py and listed in the README; set here only what differs.
"""

# Connect as an unprivileged user and use sudo for changes.
_sudo = True
