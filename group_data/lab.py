"""Values for the hosts of inventories/lab.py (containers on one small machine)."""

# Three Ray nodes share this machine's memory.
ray_object_store_memory_mb = 512
ray_head_start_timeout_s = 240
verify_timeout_s = 300
