"""Production inventory: edit the hosts, then run

    pyinfra inventories/prod.py deploy/cluster.py

Groups: `ray_head` (exactly one host), `ray_workers` (zero or more), `gpu`
(hosts, listed above too, that have NVIDIA GPUs). Values shared by every
prod host live in group_data/prod.py; a host's own values go in its tuple.

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
