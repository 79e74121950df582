"""Values for the hosts of inventories/prod.py."""

ssh_user = "deploy"

# The image every prod node runs; a fixed tag, never `latest`.
ray_image = "registry.seedcore.internal:5000/seedcore/ray:2.20.0"

# deploy/rollout.py: a release staging has not verified is refused.
rollout_stage = "prod"

# The prod cluster's CA and node certificates on the control machine (never committed).
tls_dir = ".seedcore/tls/prod"
