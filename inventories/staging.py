"""Staging inventory: the same shape as prod, smaller. Roll a change here first:

    pyinfra inventories/staging.py deploy/cluster.py

Values shared by every staging host live in group_data/staging.py.
"""

ray_head = [
    ("ray-head-1.staging.seedcore.internal", {"ray_node_ip": "10.30.0.10"}),
]

ray_workers = [
    ("ray-worker-1.staging.seedcore.internal", {"ray_node_ip": "10.30.0.11"}),
]

gpu = []
