"""Values for the hosts of inventories/prod.py: the recommended production setup.

Every key and its default: docs/data-keys.md. Mutual TLS, the host firewall and
the web door are on by default; they are written out here so the example shows
what runs.
"""

ssh_user = "deploy"

# The image every prod node runs; a fixed tag, never `latest`.
ray_image = "registry.seedcore.internal:5000/seedcore/ray:2.20.0"

# deploy/rollout.py: a release staging has not verified is refused.
rollout_stage = "prod"

# Mutual TLS on Ray's gRPC and TLS to the GCS store; the prod cluster's CA and node
# certificates on the control machine (never committed: back it up).
tls_enabled = True
tls_dir = ".seedcore/tls/prod"

# Head fault tolerance: the store's password comes from this variable on the control machine.
ray_gcs_store_password_env = "SEEDCORE_GCS_STORE_PASSWORD"

# The host firewall (nftables, table inet seedcore) on every host: each port the cluster
# opens admits the cluster's nodes and these networks only. Here: the operators' bastion.
firewall_manage = True
firewall_allow_cidrs = ["10.20.0.5/32"]
# Serve's HTTP port also admits the load balancer's network.
firewall_serve_cidrs = ["10.20.1.0/24"]

# The web door: HTTPS and a password (SEEDCORE_WEB_PASSWORD) in front of the dashboard
# on the head and Prometheus on the monitoring host.
web_manage = True
