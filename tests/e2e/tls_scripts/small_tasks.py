"""Run inside the Ray image: one local Ray node bound to 127.0.0.1 (in the node
certificate's SAN), small tasks one at a time and in a batch; prints JSON."""

import json
import os
import time

import ray

ray.init(_node_ip_address="127.0.0.1", num_cpus=2, include_dashboard=False, logging_level="ERROR")


@ray.remote
def echo(value):
    return value


ray.get([echo.remote(i) for i in range(50)])  # workers started and warm
started = time.perf_counter()
for i in range(300):
    ray.get(echo.remote(i))
sequential_ms = (time.perf_counter() - started) / 300 * 1000
started = time.perf_counter()
ray.get([echo.remote(i) for i in range(2000)])
batched = 2000 / (time.perf_counter() - started)
print(json.dumps({"tls": os.environ.get("RAY_USE_TLS", "0"), "sequential_task_ms": round(sequential_ms, 2),
                  "batched_tasks_per_s": round(batched)}))
