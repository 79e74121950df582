"""Values for the hosts of inventories/lab.py (containers on one small machine)."""

# Three Ray nodes share this machine's memory.
ray_object_store_memory_mb = 512
ray_head_start_timeout_s = 240
verify_timeout_s = 300

# This machine caps open files at 20000 and lab hosts cannot raise that cap
# (no CAP_SYS_RESOURCE), so containers inside them get less than the 65536
# default; Ray only warns below 4096.
ray_nofile_limit = 16384

# The lab cluster's CA and node certificates, on this machine, beside the lab's keys.
tls_dir = ".lab/tls"
