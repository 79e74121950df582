"""Production inventory, in the recommended shape: edit the hosts, then run

    pyinfra inventories/prod.py deploy/cluster.py --dry
    pyinfra inventories/prod.py deploy/cluster.py

Groups (seedcore/topology.py): `ray_head` (exactly one host), `ray_workers` (zero
or more), `gpu` (hosts, listed above too, that have NVIDIA GPUs), `ray_gcs_store`
(the host whose Redis keeps the head's tables: head fault tolerance; a host of
its own, not a Ray node, so it outlives the head) and `monitoring` (Prometheus
and its alert rules; here on a worker). `make demo` brings up this shape on the
local lab (inventories/demo.py).

Values shared by every prod host live in group_data/prod.py; a host's own values
go in its tuple. Export the secrets on the control machine before a run:
SEEDCORE_GCS_STORE_PASSWORD (the store's Redis) and SEEDCORE_WEB_PASSWORD (the
web door in front of the dashboard and Prometheus).

SSH host keys are checked: add every host to ~/.ssh/known_hosts first
(`ssh-keyscan -H HOST >> ~/.ssh/known_hosts`, then compare fingerprints).
"""

ray_head = [
    ("ray-head-1.prod.seedcore.internal", {"ray_node_ip": "10.20.0.10"}),
]

ray_workers = [
    ("ray-worker-1.prod.seedcore.internal", {"ray_node_ip": "10.20.0.11"}),
    ("ray-worker-2.prod.seedcore.internal", {"ray_node_ip": "10.20.0.12"}),
]

gpu = []

# Head fault tolerance: Redis (TLS only, password required) on a host that runs no Ray node.
ray_gcs_store = [
    ("ray-store-1.prod.seedcore.internal", {"ray_node_ip": "10.20.0.20"}),
]

# Prometheus, its targets rendered from this inventory, and the alert rules, on a worker.
monitoring = ray_workers[-1:]
