"""Values for the hosts of inventories/staging.py."""

ssh_user = "deploy"

ray_image = "registry.seedcore.internal:5000/seedcore/ray:2.20.0"

# deploy/rollout.py: a green rollout records the release it verified, for prod's gate.
rollout_stage = "staging"

# The staging cluster's CA and node certificates on the control machine (never committed).
tls_dir = ".seedcore/tls/staging"
