"""The inventory every bench run deploys: the lab's hosts as a Ray cluster only.

inventories/lab.py also makes its last worker a Prometheus host; the bench
compares the deploy's Ray work with the same work done by hand (and with
`ray up`), so it leaves monitoring out."""

from functools import cache

from lab import control as labctl


@cache
def cluster_inventory() -> str:
    """Path of the lab inventory without the `monitoring` group (written once per run)."""
    return labctl.write_inventory("bench_cluster", "monitoring = []\n")
