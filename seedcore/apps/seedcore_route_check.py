"""Wait until Serve answers a route through this node's proxy.

Run inside the head container after `serve deploy`:

    python seedcore_route_check.py --port 8000 --route /health --timeout 90

If the application is deployed but the proxy never routes to it within the
deadline, the proxy actor is restarted once (Serve's controller starts a new
one) and the route is waited on again. Exits non-zero, saying what it waited
on, when the route still does not answer.
"""

import argparse
import sys
import time
import urllib.request


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except Exception:  # noqa: BLE001 - any failure means "not yet"
        return False


def wait(url: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if answers(url):
            return True
        time.sleep(1)
    return False


def restart_proxy() -> str:
    import ray

    ray.init(address="auto", logging_level="ERROR")
    name = f"SERVE_PROXY_ACTOR-{ray.get_runtime_context().get_node_id()}"
    ray.kill(ray.get_actor(name, namespace="serve"), no_restart=False)
    return name


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--route", default="/health")
    parser.add_argument("--timeout", type=float, default=90)
    args = parser.parse_args()
    url = f"http://127.0.0.1:{args.port}{args.route}"
    started = time.monotonic()
    if wait(url, args.timeout):
        print(f"{url} answered after {time.monotonic() - started:.0f}s")
        return 0
    print(f"{url} did not answer within {args.timeout:.0f}s; restarting the Serve proxy")
    print(f"restarted {restart_proxy()}")
    if wait(url, args.timeout):
        print(f"{url} answered after the proxy restart ({time.monotonic() - started:.0f}s in all)")
        return 0
    print(f"{url} still does not answer after {time.monotonic() - started:.0f}s, proxy restarted once: "
          "see /tmp/ray/session_latest/logs/serve/ in the head container", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
