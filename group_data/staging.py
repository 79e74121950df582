"""Values for the hosts of inventories/staging.py."""

ssh_user = "deploy"

ray_image = "registry.seedcore.internal:5000/seedcore/ray:2.20.0"
