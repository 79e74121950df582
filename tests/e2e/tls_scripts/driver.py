"""Run inside a Ray container: attach a driver to the GCS at ADDRESS and run one task."""

import sys
import time

import ray

started = time.monotonic()
ray.init(address=sys.argv[1], logging_level="ERROR")
alive = len([node for node in ray.nodes() if node["Alive"]])
print("CONNECTED", alive, "nodes", ray.get(ray.put(41)) + 1, round(time.monotonic() - started, 1))
